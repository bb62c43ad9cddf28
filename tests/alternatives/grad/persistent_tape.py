# alternative: a persistent tape asked twice, once per parameter
def grad(W, b, inputs, targets):
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(W)
        tape.watch(b)
        loss_value = loss(W, b, inputs, targets)
    dW = tape.gradient(loss_value, W)
    db = tape.gradient(loss_value, b)
    del tape
    return loss_value, (dW, db)
