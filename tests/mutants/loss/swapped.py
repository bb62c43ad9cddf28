# mutant: pairs a target of 1 with 1 - p and a target of 0 with p
# hint: HINT_SWAPPED
def loss(W, b, inputs, targets):
    preds = predict(W, b, inputs)
    label_probs = preds * (1 - targets) + (1 - preds) * targets
    return tf.reduce_mean(-tf.math.log(label_probs + 1e-4))
