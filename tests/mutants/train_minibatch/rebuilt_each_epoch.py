# mutant: rebuilds the shuffled dataset from the same seed at the start of every epoch
# hint: HINT_RESHUFFLE
def train_minibatch(model, optimizer, inputs, targets, batch_size, epochs, seed):
    n = int(inputs.shape[0])
    epoch_losses = []
    for _ in range(epochs):
        dataset = tf.data.Dataset.from_tensor_slices((inputs, targets)).shuffle(n, seed=seed).batch(batch_size)
        batch_losses = []
        for x_batch, y_batch in dataset:
            loss_value, grads = model_grad(model, x_batch, y_batch)
            optimizer.apply_gradients(zip(grads, model.trainable_variables))
            batch_losses.append(float(loss_value))
        epoch_losses.append(float(np.mean(batch_losses)))
    return epoch_losses
