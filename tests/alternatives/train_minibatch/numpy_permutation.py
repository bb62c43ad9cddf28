# alternative: manual batching with a seeded NumPy permutation per epoch (no tf.data)
def train_minibatch(model, optimizer, inputs, targets, batch_size, epochs, seed):
    n = int(inputs.shape[0])
    rng = np.random.default_rng(seed)
    epoch_losses = []
    for _ in range(epochs):
        order = rng.permutation(n)
        batch_losses = []
        for start in range(0, n, batch_size):
            idx = order[start:start + batch_size]
            x_batch, y_batch = tf.gather(inputs, idx), tf.gather(targets, idx)
            loss_value, grads = model_grad(model, x_batch, y_batch)
            optimizer.apply_gradients(zip(grads, model.trainable_variables))
            batch_losses.append(float(loss_value))
        epoch_losses.append(sum(batch_losses) / len(batch_losses))
    return epoch_losses
