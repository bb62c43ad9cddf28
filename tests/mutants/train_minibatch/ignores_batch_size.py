# mutant: a batch size of 32 written into the pipeline instead of the argument
# hint: HINT_NO_BATCHES, HINT_BATCH_COUNT
def train_minibatch(model, optimizer, inputs, targets, batch_size, epochs, seed):
    n = int(inputs.shape[0])
    dataset = tf.data.Dataset.from_tensor_slices((inputs, targets)).shuffle(n, seed=seed).batch(32)
    epoch_losses = []
    for _ in range(epochs):
        batch_losses = []
        for x_batch, y_batch in dataset:
            loss_value, grads = model_grad(model, x_batch, y_batch)
            optimizer.apply_gradients(zip(grads, model.trainable_variables))
            batch_losses.append(float(loss_value))
        epoch_losses.append(float(np.mean(batch_losses)))
    return epoch_losses
