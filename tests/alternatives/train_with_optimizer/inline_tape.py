# alternative: its own tape and model_loss instead of model_grad; losses as NumPy scalars
def train_with_optimizer(model, optimizer, inputs, targets, steps):
    losses = []
    for step in range(steps):
        with tf.GradientTape() as tape:
            loss_value = model_loss(model, inputs, targets)
        grads = tape.gradient(loss_value, model.trainable_variables)
        optimizer.apply_gradients(list(zip(grads, model.trainable_variables)))
        losses.append(loss_value.numpy())
    return losses
