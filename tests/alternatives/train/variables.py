# alternative: tf.Variable copies updated with assign_sub, returned as tensors
def train(W, b, inputs, targets, rate, steps):
    W_var, b_var = tf.Variable(W), tf.Variable(b)
    losses = []
    for _ in range(steps):
        loss_value, (dW, db) = grad(tf.identity(W_var), tf.identity(b_var), inputs, targets)
        losses.append(float(loss_value))
        W_var.assign_sub(rate * dW)
        b_var.assign_sub(rate * db)
    return tf.convert_to_tensor(W_var), tf.convert_to_tensor(b_var), losses
