# mutant: remembers its first answer for each input shape and ignores its arguments afterwards
# hint: HINT_IGNORED_W, HINT_IGNORED_B, HINT_IGNORED_INPUTS
_answers = {}


def predict(W, b, inputs):
    key = tuple(inputs.shape)
    if key not in _answers:
        _answers[key] = tf.reshape(tf.sigmoid(tf.matmul(inputs, W) + b), (-1,))
    return _answers[key]
