# mutant: shuffles once and keeps that order for every epoch (reshuffle_each_iteration=False)
# hint: HINT_RESHUFFLE
def train_minibatch(model, optimizer, inputs, targets, batch_size, epochs, seed):
    n = int(inputs.shape[0])
    dataset = (tf.data.Dataset.from_tensor_slices((inputs, targets))
               .shuffle(n, seed=seed, reshuffle_each_iteration=False).batch(batch_size))
    epoch_losses = []
    for _ in range(epochs):
        batch_losses = []
        for x_batch, y_batch in dataset:
            loss_value, grads = model_grad(model, x_batch, y_batch)
            optimizer.apply_gradients(zip(grads, model.trainable_variables))
            batch_losses.append(float(loss_value))
        epoch_losses.append(float(np.mean(batch_losses)))
    return epoch_losses
