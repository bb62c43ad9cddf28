# mutant: returns minus the gradients (the descent direction)
# hint: HINT_GRAD_SIGN
def model_grad(model, inputs, targets):
    with tf.GradientTape() as tape:
        loss_value = model_loss(model, inputs, targets)
    grads = tape.gradient(loss_value, model.trainable_variables)
    return loss_value, [-g for g in grads]
