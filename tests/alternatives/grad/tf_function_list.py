# alternative: compiled with @tf.function, returns a list [dW, db] instead of a tuple
@tf.function
def grad(W, b, inputs, targets):
    with tf.GradientTape() as tape:
        tape.watch([W, b])
        loss_value = loss(W, b, inputs, targets)
    return loss_value, tape.gradient(loss_value, [W, b])
