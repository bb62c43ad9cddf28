# alternative: a list comprehension over a one-step helper
def train_with_optimizer(model, optimizer, inputs, targets, steps):
    def step():
        loss_value, grads = model_grad(model, inputs, targets)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return float(loss_value)
    return [step() for _ in range(steps)]
