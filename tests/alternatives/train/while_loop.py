# alternative: a while loop with augmented assignments, losses stored as NumPy scalars
def train(W, b, inputs, targets, rate, steps):
    losses = []
    step = 0
    while step < steps:
        loss_value, (dW, db) = grad(W, b, inputs, targets)
        losses.append(loss_value.numpy())
        W -= rate * dW
        b -= rate * db
        step += 1
    return W, b, losses
