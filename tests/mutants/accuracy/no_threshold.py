# mutant: compares the probabilities with the targets without thresholding
# hint: HINT_NO_THRESHOLD
def accuracy(W, b, inputs, targets):
    preds = predict(W, b, inputs).numpy()
    return float(np.mean(preds == targets.numpy()))
