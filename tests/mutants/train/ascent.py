# mutant: adds the gradient: gradient ascent
# hint: HINT_ASCENT
def train(W, b, inputs, targets, rate, steps):
    losses = []
    for _ in range(steps):
        loss_value, (dW, db) = grad(W, b, inputs, targets)
        losses.append(float(loss_value))
        W = W + rate * dW
        b = b + rate * db
    return W, b, losses
