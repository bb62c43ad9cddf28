# mutant: returns the (n, 1) column of probabilities without flattening it
# hint: HINT_COLUMN
def predict(W, b, inputs):
    return tf.sigmoid(tf.matmul(inputs, W) + b)
