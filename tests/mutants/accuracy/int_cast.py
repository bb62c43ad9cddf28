# mutant: turns probabilities into labels with tf.cast, which truncates every one of them to 0
# hint: HINT_ONE_LABEL
def accuracy(W, b, inputs, targets):
    labels = tf.cast(predict(W, b, inputs), tf.int32)
    correct = tf.equal(labels, tf.cast(targets, tf.int32))
    return float(tf.reduce_mean(tf.cast(correct, tf.float32)))
