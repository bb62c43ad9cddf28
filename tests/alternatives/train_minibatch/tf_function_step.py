# alternative: a @tf.function training step and an explicit reshuffle_each_iteration=True
def train_minibatch(model, optimizer, inputs, targets, batch_size, epochs, seed):
    @tf.function
    def train_step(x_batch, y_batch):
        loss_value, grads = model_grad(model, x_batch, y_batch)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss_value

    n = int(inputs.shape[0])
    dataset = tf.data.Dataset.from_tensor_slices((inputs, targets))
    dataset = dataset.shuffle(n, seed=seed, reshuffle_each_iteration=True).batch(batch_size)
    epoch_losses = []
    for _ in range(epochs):
        batch_losses = [float(train_step(x_batch, y_batch)) for x_batch, y_batch in dataset]
        epoch_losses.append(float(np.mean(batch_losses)))
    return epoch_losses
