# mutant: the bias has one entry whatever num_outputs is
# hint: HINT_WEIGHT_SHAPES
class MyDense(tf.keras.layers.Layer):
    def __init__(self, num_outputs, **kwargs):
        super().__init__(**kwargs)
        self.num_outputs = num_outputs

    def build(self, input_shape):
        self.W = self.add_weight(name="W", shape=(input_shape[-1], self.num_outputs))
        self.b = self.add_weight(name="b", shape=(1,), initializer="zeros")

    def call(self, inputs):
        return tf.matmul(inputs, self.W) + self.b
