# mutant: recomputes the (n, 1) probabilities itself, which broadcast against (n,) targets
# hint: HINT_PAIRWISE
def loss(W, b, inputs, targets):
    preds = tf.sigmoid(tf.matmul(inputs, W) + b)
    label_probs = preds * targets + (1 - preds) * (1 - targets)
    return tf.reduce_mean(-tf.math.log(label_probs + 1e-4))
