# mutant: never adds the bias b
# hint: HINT_NO_BIAS
def predict(W, b, inputs):
    return tf.reshape(tf.sigmoid(tf.matmul(inputs, W)), (-1,))
