# mutant: updates W and b in place with assign_sub, but they are constant tensors
# hint: HINT_IN_PLACE
def train(W, b, inputs, targets, rate, steps):
    losses = []
    for _ in range(steps):
        loss_value, (dW, db) = grad(W, b, inputs, targets)
        losses.append(float(loss_value))
        W.assign_sub(rate * dW)
        b.assign_sub(rate * db)
    return W, b, losses
