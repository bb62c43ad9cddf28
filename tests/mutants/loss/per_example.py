# mutant: returns the vector of per-example losses (no mean)
# hint: HINT_PER_EXAMPLE
def loss(W, b, inputs, targets):
    preds = predict(W, b, inputs)
    label_probs = preds * targets + (1 - preds) * (1 - targets)
    return -tf.math.log(label_probs + 1e-4)
