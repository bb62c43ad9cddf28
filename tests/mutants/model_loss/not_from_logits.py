# mutant: gives logits to BinaryCrossentropy() as if they were probabilities
# hint: HINT_FROM_LOGITS
def model_loss(model, inputs, targets):
    logits = model(inputs)
    return tf.keras.losses.BinaryCrossentropy()(tf.reshape(targets, (-1, 1)), logits)
