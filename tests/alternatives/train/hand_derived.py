# alternative: float64 parameters and the exact gradient worked out by hand; returns a list
def train(W, b, inputs, targets, rate, steps):
    W, b = tf.cast(W, tf.float64), tf.cast(b, tf.float64)
    X, t = tf.cast(inputs, tf.float64), tf.cast(targets, tf.float64)
    n = tf.cast(tf.shape(X)[0], tf.float64)
    losses = []
    for _ in range(steps):
        z = tf.reshape(X @ W + b, (-1,))
        losses.append(float(tf.reduce_mean(tf.math.softplus(z) - t * z)))
        error = tf.reshape(tf.sigmoid(z) - t, (-1, 1))
        W = W - rate * tf.transpose(X) @ error / n
        b = b - rate * tf.reduce_sum(error) / n
    return [W, b, losses]
