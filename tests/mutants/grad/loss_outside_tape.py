# mutant: computes the loss after the with-block has closed
# hint: HINT_NONE_GRAD
def grad(W, b, inputs, targets):
    with tf.GradientTape() as tape:
        tape.watch(W)
        tape.watch(b)
    loss_value = loss(W, b, inputs, targets)
    dW, db = tape.gradient(loss_value, [W, b])
    return loss_value, (dW, db)
