# mutant: defines the function under another name (a typo)
def lost(W, b, inputs, targets):
    preds = predict(W, b, inputs)
    label_probs = preds * targets + (1 - preds) * (1 - targets)
    return tf.reduce_mean(-tf.math.log(label_probs + 1e-4))
