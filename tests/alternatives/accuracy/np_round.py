# alternative: np.round of the probabilities, mean taken with NumPy (a numpy.float64, which is a float)
def accuracy(W, b, inputs, targets):
    labels = np.round(predict(W, b, inputs).numpy())
    return np.mean(labels == np.array(targets))
