# alternative: one tape.watch call on a list; gradient list converted to a tuple
def grad(W, b, inputs, targets):
    with tf.GradientTape() as tape:
        tape.watch([W, b])
        loss_value = loss(W, b, inputs, targets)
    return loss_value, tuple(tape.gradient(loss_value, [W, b]))
