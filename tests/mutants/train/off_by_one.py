# mutant: loops over range(1, steps): one step too few
# hint: HINT_STEPS
def train(W, b, inputs, targets, rate, steps):
    losses = []
    for step in range(1, steps):
        loss_value, (dW, db) = grad(W, b, inputs, targets)
        losses.append(float(loss_value))
        W = W - rate * dW
        b = b - rate * db
    return W, b, losses
