# alternative: the Keras BinaryAccuracy metric on the probabilities
def accuracy(W, b, inputs, targets):
    metric = tf.keras.metrics.BinaryAccuracy(threshold=0.5)
    metric.update_state(targets, predict(W, b, inputs))
    return float(metric.result())
