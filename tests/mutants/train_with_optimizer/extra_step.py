# mutant: loops over range(steps + 1)
# hint: HINT_STEPS, HINT_OPTIMIZER_STEPS
def train_with_optimizer(model, optimizer, inputs, targets, steps):
    losses = []
    for _ in range(steps + 1):
        loss_value, grads = model_grad(model, inputs, targets)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        losses.append(float(loss_value))
    return losses
