# mutant: computes nothing: creates the weights in build() but returns zeros of shape (n, units)
# hint: HINT_IGNORED_INPUTS
class MyDense(tf.keras.layers.Layer):
    def __init__(self, num_outputs, **kwargs):
        super().__init__(**kwargs)
        self.num_outputs = num_outputs

    def build(self, input_shape):
        self.W = self.add_weight(name="W", shape=(input_shape[-1], self.num_outputs))
        self.b = self.add_weight(name="b", shape=(self.num_outputs,), initializer="zeros")

    def call(self, inputs):
        return tf.zeros((tf.shape(inputs)[0], self.num_outputs))
