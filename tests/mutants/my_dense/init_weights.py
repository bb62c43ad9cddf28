# mutant: creates the weights in __init__ for a fixed input size of 2
# hint: HINT_INIT, HINT_BUILD
class MyDense(tf.keras.layers.Layer):
    def __init__(self, num_outputs, **kwargs):
        super().__init__(**kwargs)
        self.num_outputs = num_outputs
        self.W = self.add_weight(name="W", shape=(2, num_outputs))
        self.b = self.add_weight(name="b", shape=(num_outputs,), initializer="zeros")

    def call(self, inputs):
        return tf.matmul(inputs, self.W) + self.b
