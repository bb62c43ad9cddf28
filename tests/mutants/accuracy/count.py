# mutant: returns the number of correct labels, not the fraction
# hint: HINT_COUNT
def accuracy(W, b, inputs, targets):
    labels = (predict(W, b, inputs).numpy() > 0.5).astype(np.float32)
    return float(np.sum(labels == targets.numpy()))
