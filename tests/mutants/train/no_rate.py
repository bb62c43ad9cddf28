# mutant: forgets the learning rate in the update
# hint: HINT_IGNORED_RATE
def train(W, b, inputs, targets, rate, steps):
    losses = []
    for _ in range(steps):
        loss_value, (dW, db) = grad(W, b, inputs, targets)
        losses.append(float(loss_value))
        W = W - dW
        b = b - db
    return W, b, losses
