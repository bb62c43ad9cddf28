# alternative: a plain Python count over the examples
def accuracy(W, b, inputs, targets):
    probs = predict(W, b, inputs).numpy().tolist()
    labels = targets.numpy().tolist()
    correct = sum(1 for p, t in zip(probs, labels) if (p > 0.5) == (t == 1.0))
    return correct / len(labels)
