# alternative: tf.nn.sigmoid_cross_entropy_with_logits with matching shapes, then the mean
def model_loss(model, inputs, targets):
    logits = model(inputs)[:, 0]
    per_example = tf.nn.sigmoid_cross_entropy_with_logits(labels=targets, logits=logits)
    return tf.reduce_mean(per_example)
