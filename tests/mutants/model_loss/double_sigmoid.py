# mutant: applies a sigmoid and also says from_logits=True
# hint: HINT_DOUBLE_SIGMOID
def model_loss(model, inputs, targets):
    probs = tf.sigmoid(model(inputs))
    loss_fn = tf.keras.losses.BinaryCrossentropy(from_logits=True)
    return loss_fn(tf.reshape(targets, (-1, 1)), probs)
