# alternative: all in TensorFlow, converted with float() at the end
def accuracy(W, b, inputs, targets):
    labels = tf.cast(predict(W, b, inputs) >= 0.5, tf.float32)
    correct = tf.cast(tf.equal(labels, targets), tf.float32)
    return float(tf.math.reduce_mean(correct))
