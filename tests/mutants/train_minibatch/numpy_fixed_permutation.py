# mutant: one NumPy permutation drawn from the seed, reused for every epoch
# hint: HINT_RESHUFFLE
def train_minibatch(model, optimizer, inputs, targets, batch_size, epochs, seed):
    n = int(inputs.shape[0])
    order = np.random.default_rng(seed).permutation(n)
    epoch_losses = []
    for _ in range(epochs):
        batch_losses = []
        for start in range(0, n, batch_size):
            idx = order[start:start + batch_size]
            loss_value, grads = model_grad(model, tf.gather(inputs, idx), tf.gather(targets, idx))
            optimizer.apply_gradients(zip(grads, model.trainable_variables))
            batch_losses.append(float(loss_value))
        epoch_losses.append(float(np.mean(batch_losses)))
    return epoch_losses
