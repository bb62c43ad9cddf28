# mutant: forgets the sigmoid and returns the raw scores
# hint: HINT_LOGITS
def predict(W, b, inputs):
    logits = tf.matmul(inputs, W) + b
    return tf.reshape(logits, (-1,))
