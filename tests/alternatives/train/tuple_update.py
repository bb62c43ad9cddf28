# alternative: one tuple assignment for both updates
def train(W, b, inputs, targets, rate, steps):
    losses = []
    for _ in range(steps):
        loss_value, grads = grad(W, b, inputs, targets)
        losses.append(float(loss_value))
        W, b = [p - rate * g for p, g in zip((W, b), grads)]
    return W, b, losses
