# mutant: sums the per-example losses instead of averaging them
# hint: HINT_SUM
def loss(W, b, inputs, targets):
    preds = predict(W, b, inputs)
    label_probs = preds * targets + (1 - preds) * (1 - targets)
    return tf.reduce_sum(-tf.math.log(label_probs + 1e-4))
