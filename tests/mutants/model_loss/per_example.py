# mutant: uses the functional binary_crossentropy, which returns one loss per example
# hint: HINT_PER_EXAMPLE
def model_loss(model, inputs, targets):
    logits = model(inputs)
    return tf.keras.losses.binary_crossentropy(tf.reshape(targets, (-1, 1)), logits, from_logits=True)
