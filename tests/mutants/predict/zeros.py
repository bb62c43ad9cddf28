# mutant: computes nothing: returns zeros of the right shape and dtype
# hint: HINT_IGNORED_W, HINT_IGNORED_B, HINT_IGNORED_INPUTS
def predict(W, b, inputs):
    return tf.zeros((inputs.shape[0],), dtype=tf.float32)
