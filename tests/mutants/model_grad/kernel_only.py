# mutant: asks only for the gradient of the kernel
# hint: HINT_GRAD_COUNT
def model_grad(model, inputs, targets):
    with tf.GradientTape() as tape:
        loss_value = model_loss(model, inputs, targets)
    grads = tape.gradient(loss_value, model.trainable_variables[:1])
    return loss_value, grads
