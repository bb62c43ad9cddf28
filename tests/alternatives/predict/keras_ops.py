# alternative: Keras 3's backend-neutral keras.ops instead of tf functions
import keras


def predict(W, b, inputs):
    return keras.ops.reshape(keras.ops.sigmoid(keras.ops.matmul(inputs, W) + b), (-1,))
