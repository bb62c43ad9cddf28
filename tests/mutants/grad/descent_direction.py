# mutant: returns minus the gradient (the descent direction)
# hint: HINT_GRAD_SIGN
def grad(W, b, inputs, targets):
    with tf.GradientTape() as tape:
        tape.watch(W)
        tape.watch(b)
        loss_value = loss(W, b, inputs, targets)
    dW, db = tape.gradient(loss_value, [W, b])
    return loss_value, (-dW, -db)
