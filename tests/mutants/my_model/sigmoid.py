# mutant: applies the sigmoid in call, returning probabilities
# hint: HINT_PROBS
class MyModel(tf.keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = MyDense(1)

    def call(self, inputs):
        return tf.sigmoid(self.dense(inputs))
