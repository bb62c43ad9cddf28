# alternative: the functional binary_crossentropy averaged with tf.reduce_mean
def model_loss(model, inputs, targets):
    targets = tf.reshape(targets, (-1, 1))
    per_example = tf.keras.losses.binary_crossentropy(targets, model(inputs), from_logits=True)
    return tf.reduce_mean(per_example)
