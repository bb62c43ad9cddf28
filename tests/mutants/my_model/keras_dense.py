# mutant: uses tf.keras.layers.Dense instead of the student's MyDense
# hint: HINT_DENSE_ATTR
class MyModel(tf.keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = tf.keras.layers.Dense(1)

    def call(self, inputs):
        return self.dense(inputs)
