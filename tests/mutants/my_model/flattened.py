# mutant: flattens the logits to shape (n,)
# hint: HINT_FLAT
class MyModel(tf.keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = MyDense(1)

    def call(self, inputs):
        return tf.reshape(self.dense(inputs), (-1,))
