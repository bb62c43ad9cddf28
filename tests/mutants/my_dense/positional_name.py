# mutant: passes the weight's name positionally, as in Keras 2 tutorials
# hint: HINT_ADD_WEIGHT
class MyDense(tf.keras.layers.Layer):
    def __init__(self, num_outputs, **kwargs):
        super().__init__(**kwargs)
        self.num_outputs = num_outputs

    def build(self, input_shape):
        self.W = self.add_weight("W", shape=(input_shape[-1], self.num_outputs))
        self.b = self.add_weight("b", shape=(self.num_outputs,), initializer="zeros")

    def call(self, inputs):
        return tf.matmul(inputs, self.W) + self.b
