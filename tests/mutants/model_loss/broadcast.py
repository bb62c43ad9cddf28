# mutant: writes the logit cross-entropy by hand with (n,) targets against (n, 1) logits
# hint: HINT_BROADCAST
def model_loss(model, inputs, targets):
    logits = model(inputs)
    return tf.reduce_mean(tf.nn.softplus(logits) - targets * logits)
