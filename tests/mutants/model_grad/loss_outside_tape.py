# mutant: computes the loss before opening the tape
# hint: HINT_NONE_GRAD
def model_grad(model, inputs, targets):
    loss_value = model_loss(model, inputs, targets)
    with tf.GradientTape() as tape:
        grads = tape.gradient(loss_value, model.trainable_variables)
    return loss_value, grads
