# alternative: the textbook formula t*log(p) + (1-t)*log(1-p) without any epsilon
def loss(W, b, inputs, targets):
    p = predict(W, b, inputs)
    return -tf.reduce_mean(targets * tf.math.log(p) + (1 - targets) * tf.math.log(1 - p))
