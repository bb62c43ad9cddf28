# alternative: Keras 3's optimizer.apply(grads, variables)
def train_with_optimizer(model, optimizer, inputs, targets, steps):
    losses = []
    for _ in range(steps):
        loss_value, grads = model_grad(model, inputs, targets)
        losses.append(float(loss_value))
        optimizer.apply(grads, model.trainable_variables)
    return losses
