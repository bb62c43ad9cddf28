# mutant: forgets the minus sign of the log-likelihood
# hint: HINT_SIGN
def loss(W, b, inputs, targets):
    preds = predict(W, b, inputs)
    return tf.reduce_mean(targets * tf.math.log(preds + 1e-4)
                          + (1 - targets) * tf.math.log(1 - preds + 1e-4))
