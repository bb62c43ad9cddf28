# mutant: computes nothing: holds a MyDense(1) but returns zeros of shape (n, 1)
# hint: HINT_DENSE_UNCALLED
class MyModel(tf.keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = MyDense(1)

    def call(self, inputs):
        return tf.zeros((tf.shape(inputs)[0], 1))
