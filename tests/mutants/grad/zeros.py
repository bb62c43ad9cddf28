# mutant: computes nothing: a constant loss and zero gradients of the right shapes
# hint: HINT_IGNORED_W, HINT_IGNORED_B, HINT_IGNORED_INPUTS, HINT_IGNORED_TARGETS
def grad(W, b, inputs, targets):
    return tf.constant(0.0), (tf.zeros_like(W), tf.zeros_like(b))
