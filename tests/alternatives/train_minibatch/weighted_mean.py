# alternative: each epoch's loss weighted by batch size (as model.fit reports it), inline tape
def train_minibatch(model, optimizer, inputs, targets, batch_size, epochs, seed):
    n = int(inputs.shape[0])
    dataset = tf.data.Dataset.from_tensor_slices((inputs, targets)).shuffle(n, seed=seed).batch(batch_size)
    epoch_losses = []
    for _ in range(epochs):
        total, count = 0.0, 0
        for x_batch, y_batch in dataset:
            with tf.GradientTape() as tape:
                loss_value = model_loss(model, x_batch, y_batch)
            grads = tape.gradient(loss_value, model.trainable_variables)
            optimizer.apply_gradients(zip(grads, model.trainable_variables))
            m = int(x_batch.shape[0])
            total += float(loss_value) * m
            count += m
        epoch_losses.append(total / count)
    return epoch_losses
