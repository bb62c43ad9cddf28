# alternative: MyDense(num_outputs=1), and call accepts a training flag
class MyModel(tf.keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = MyDense(num_outputs=1)

    def call(self, inputs, training=False):
        logits = self.dense(inputs)
        return logits
