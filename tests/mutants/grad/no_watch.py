# mutant: forgets tape.watch on the plain tensors W and b
# hint: HINT_NONE_GRAD
def grad(W, b, inputs, targets):
    with tf.GradientTape() as tape:
        loss_value = loss(W, b, inputs, targets)
    dW, db = tape.gradient(loss_value, [W, b])
    return loss_value, (dW, db)
