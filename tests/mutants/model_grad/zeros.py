# mutant: computes nothing: a constant loss and zero gradients shaped like the variables
# hint: HINT_IGNORED_W, HINT_IGNORED_B, HINT_IGNORED_INPUTS, HINT_IGNORED_TARGETS
def model_grad(model, inputs, targets):
    return tf.constant(0.0), [tf.zeros_like(v) for v in model.trainable_variables]
