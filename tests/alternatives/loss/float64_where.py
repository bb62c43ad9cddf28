# alternative: float64 internally, tf.where picks each label's probability, epsilon 1e-3
def loss(W, b, inputs, targets):
    p = tf.cast(predict(W, b, inputs), tf.float64)
    label_probs = tf.where(tf.cast(targets, tf.float64) > 0.5, p, 1.0 - p)
    return tf.cast(tf.reduce_mean(-tf.math.log(label_probs + 1e-3)), tf.float32)
