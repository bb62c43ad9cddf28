# mutant: records each loss after the update instead of before it
# hint: HINT_AFTER_UPDATE
def train(W, b, inputs, targets, rate, steps):
    losses = []
    for _ in range(steps):
        loss_value, (dW, db) = grad(W, b, inputs, targets)
        W = W - rate * dW
        b = b - rate * db
        losses.append(float(loss(W, b, inputs, targets)))
    return W, b, losses
