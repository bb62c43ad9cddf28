# alternative: initializer objects, int(input_shape[-1]), the @ operator, units stored as self.units
class MyDense(tf.keras.layers.Layer):
    def __init__(self, num_outputs, **kwargs):
        super().__init__(**kwargs)
        self.units = num_outputs

    def build(self, input_shape):
        d = int(input_shape[-1])
        self.W = self.add_weight(shape=(d, self.units), name="W",
                                 initializer=tf.keras.initializers.GlorotUniform(), trainable=True)
        self.b = self.add_weight(shape=(self.units,), name="b",
                                 initializer=tf.keras.initializers.Zeros(), trainable=True)

    def call(self, inputs):
        return inputs @ self.W + self.b
