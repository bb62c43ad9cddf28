# alternative: wraps W and b in tf.Variable (watched automatically) instead of tape.watch
def grad(W, b, inputs, targets):
    W_var, b_var = tf.Variable(W), tf.Variable(b)
    with tf.GradientTape() as tape:
        loss_value = loss(W_var, b_var, inputs, targets)
    dW, db = tape.gradient(loss_value, [W_var, b_var])
    return loss_value, (dW, db)
