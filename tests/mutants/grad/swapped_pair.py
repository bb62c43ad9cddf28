# mutant: returns the gradients in the order (db, dW)
# hint: HINT_GRAD_ORDER
def grad(W, b, inputs, targets):
    with tf.GradientTape() as tape:
        tape.watch([W, b])
        loss_value = loss(W, b, inputs, targets)
    dW, db = tape.gradient(loss_value, [W, b])
    return loss_value, (db, dW)
