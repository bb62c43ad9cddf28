# mutant: creates a new MyDense in every call
# hint: HINT_DENSE_ATTR
class MyModel(tf.keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)

    def call(self, inputs):
        return MyDense(1)(inputs)
