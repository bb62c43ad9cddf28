# alternative: tf.einsum, computed in float64 and cast back to float32
def predict(W, b, inputs):
    z = tf.einsum("nd,dk->n", tf.cast(inputs, tf.float64), tf.cast(W, tf.float64))
    z = z + tf.cast(b, tf.float64)
    return tf.cast(tf.math.sigmoid(z), tf.float32)
