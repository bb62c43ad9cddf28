# alternative: writes the Keras loss inline instead of calling model_loss
def model_grad(model, inputs, targets):
    loss_fn = tf.keras.losses.BinaryCrossentropy(from_logits=True)
    with tf.GradientTape() as tape:
        logits = model(inputs, training=True)
        loss_value = loss_fn(tf.reshape(targets, (-1, 1)), logits)
    grads = tape.gradient(loss_value, model.trainable_variables)
    return loss_value, grads
