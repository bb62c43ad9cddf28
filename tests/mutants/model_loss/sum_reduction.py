# mutant: asks the Keras loss for the sum over the batch
# hint: HINT_SUM
def model_loss(model, inputs, targets):
    loss_fn = tf.keras.losses.BinaryCrossentropy(from_logits=True, reduction="sum")
    return loss_fn(tf.reshape(targets, (-1, 1)), model(inputs))
