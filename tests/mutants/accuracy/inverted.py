# mutant: thresholds the wrong way round (p < 0.5 means class 1)
# hint: HINT_INVERTED
def accuracy(W, b, inputs, targets):
    labels = (predict(W, b, inputs).numpy() < 0.5).astype(np.float32)
    return float(np.mean(labels == targets.numpy()))
