# mutant: takes np.log of the probabilities inside the tape (NumPy cuts the path)
# hint: HINT_NONE_GRAD
def grad(W, b, inputs, targets):
    with tf.GradientTape() as tape:
        tape.watch(W)
        tape.watch(b)
        p = predict(W, b, inputs)
        label_probs = p * targets + (1 - p) * (1 - targets)
        loss_value = tf.reduce_mean(-np.log(label_probs + 1e-4))
    dW, db = tape.gradient(loss_value, [W, b])
    return loss_value, (dW, db)
