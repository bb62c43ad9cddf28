# alternative: sigmoid first, then BinaryCrossentropy() on probabilities
def model_loss(model, inputs, targets):
    probs = tf.sigmoid(model(inputs))
    return tf.keras.losses.BinaryCrossentropy()(tf.expand_dims(targets, -1), probs)
