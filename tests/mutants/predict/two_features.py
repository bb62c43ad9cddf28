# mutant: hard-codes two input features (the notebook's blobs are 2-D)
# hint: HINT_NOT_SIGMOID
def predict(W, b, inputs):
    logits = inputs[:, 0] * W[0, 0] + inputs[:, 1] * W[1, 0] + b
    return tf.sigmoid(logits)
