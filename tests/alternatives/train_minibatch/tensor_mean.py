# alternative: batch losses kept as tensors, epoch mean with tf.reduce_mean; len(inputs) as buffer
def train_minibatch(model, optimizer, inputs, targets, batch_size, epochs, seed):
    dataset = tf.data.Dataset.from_tensor_slices((inputs, targets))
    dataset = dataset.shuffle(buffer_size=len(inputs), seed=seed).batch(batch_size)
    history = []
    for epoch in range(epochs):
        batch_losses = []
        for xb, yb in dataset:
            loss_value, grads = model_grad(model, xb, yb)
            optimizer.apply_gradients(zip(grads, model.trainable_variables))
            batch_losses.append(loss_value)
        history.append(float(tf.reduce_mean(tf.stack(batch_losses))))
    return history
