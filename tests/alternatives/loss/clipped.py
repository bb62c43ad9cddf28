# alternative: probabilities clipped to [1e-7, 1 - 1e-7] (like Keras) instead of an added epsilon
def loss(W, b, inputs, targets):
    p = tf.clip_by_value(predict(W, b, inputs), 1e-7, 1 - 1e-7)
    per_example = -(targets * tf.math.log(p) + (1.0 - targets) * tf.math.log(1.0 - p))
    return tf.math.reduce_mean(per_example)
