# alternative: tf.nn.sigmoid on the @ operator, flattened with tf.squeeze(axis=1)
def predict(W, b, inputs):
    return tf.squeeze(tf.nn.sigmoid(inputs @ W + b), axis=1)
