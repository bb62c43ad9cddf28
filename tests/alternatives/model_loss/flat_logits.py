# alternative: flattens the logits to (n,) instead of reshaping the targets
def model_loss(model, inputs, targets):
    logits = tf.reshape(model(inputs), [-1])
    return tf.keras.losses.BinaryCrossentropy(from_logits=True)(targets, logits)
