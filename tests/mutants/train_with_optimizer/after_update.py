# mutant: records the loss after the update
# hint: HINT_AFTER_UPDATE
def train_with_optimizer(model, optimizer, inputs, targets, steps):
    losses = []
    for _ in range(steps):
        _, grads = model_grad(model, inputs, targets)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        losses.append(float(model_loss(model, inputs, targets)))
    return losses
