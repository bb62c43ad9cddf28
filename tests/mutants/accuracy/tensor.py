# mutant: returns a TensorFlow scalar instead of a Python float
# hint: HINT_FLOAT
def accuracy(W, b, inputs, targets):
    labels = tf.cast(predict(W, b, inputs) > 0.5, tf.float32)
    return tf.reduce_mean(tf.cast(labels == targets, tf.float32))
