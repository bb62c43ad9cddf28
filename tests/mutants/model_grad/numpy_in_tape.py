# mutant: computes the loss from model(inputs).numpy() inside the tape
# hint: HINT_NONE_GRAD
def model_grad(model, inputs, targets):
    with tf.GradientTape() as tape:
        z = model(inputs).numpy()[:, 0]
        loss_value = tf.constant(np.mean(np.logaddexp(0.0, z) - targets.numpy() * z))
    return loss_value, tape.gradient(loss_value, model.trainable_variables)
