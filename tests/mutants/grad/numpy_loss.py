# mutant: computes the whole loss with NumPy inside the tape, so the loss is not a tensor
# hint: HINT_NONE_GRAD
def grad(W, b, inputs, targets):
    with tf.GradientTape() as tape:
        tape.watch(W)
        tape.watch(b)
        p = predict(W, b, inputs).numpy()
        t = targets.numpy()
        loss_value = np.mean(-np.log(p * t + (1 - p) * (1 - t) + 1e-4))
    dW, db = tape.gradient(loss_value, [W, b])
    return loss_value, (dW, db)
