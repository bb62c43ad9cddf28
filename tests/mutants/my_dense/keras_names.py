# mutant: stores the weights as self.kernel and self.bias, like keras.layers.Dense
# hint: HINT_NO_ATTRS
class MyDense(tf.keras.layers.Layer):
    def __init__(self, num_outputs, **kwargs):
        super().__init__(**kwargs)
        self.num_outputs = num_outputs

    def build(self, input_shape):
        self.kernel = self.add_weight(name="W", shape=(input_shape[-1], self.num_outputs))
        self.bias = self.add_weight(name="b", shape=(self.num_outputs,), initializer="zeros")

    def call(self, inputs):
        return tf.matmul(inputs, self.kernel) + self.bias
