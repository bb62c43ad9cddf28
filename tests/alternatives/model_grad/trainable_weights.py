# alternative: model.trainable_weights, gradients returned as a list
def model_grad(model, inputs, targets):
    with tf.GradientTape() as tape:
        loss_value = model_loss(model, inputs, targets)
    return loss_value, list(tape.gradient(loss_value, model.trainable_weights))
