# alternative: random-normal kernel, tf.einsum in call, built with super().build
class MyDense(tf.keras.layers.Layer):
    def __init__(self, num_outputs, **kwargs):
        super().__init__(**kwargs)
        self.num_outputs = num_outputs

    def build(self, input_shape):
        self.W = self.add_weight(name="W", shape=[input_shape[-1], self.num_outputs],
                                 initializer="random_normal")
        self.b = self.add_weight(name="b", shape=[self.num_outputs], initializer="zeros")
        super().build(input_shape)

    def call(self, inputs):
        return tf.einsum("nd,dk->nk", inputs, self.W) + self.b
