# mutant: uses sigmoid(-z), the probability of class 0
# hint: HINT_CLASS0
def predict(W, b, inputs):
    logits = tf.matmul(inputs, W) + b
    return tf.reshape(1 / (1 + tf.exp(logits)), (-1,))
