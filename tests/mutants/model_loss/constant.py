# mutant: computes nothing: returns a constant scalar float32 tensor
# hint: HINT_IGNORED_W, HINT_IGNORED_B, HINT_IGNORED_INPUTS, HINT_IGNORED_TARGETS
def model_loss(model, inputs, targets):
    return tf.constant(0.0, dtype=tf.float32)
