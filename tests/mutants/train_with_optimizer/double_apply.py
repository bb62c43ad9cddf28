# mutant: applies the gradients twice per step
# hint: HINT_OPTIMIZER_STEPS
def train_with_optimizer(model, optimizer, inputs, targets, steps):
    losses = []
    for _ in range(steps):
        loss_value, grads = model_grad(model, inputs, targets)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        losses.append(float(loss_value))
    return losses
