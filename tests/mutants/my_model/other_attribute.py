# mutant: stores the layer as self.layer1 instead of self.dense
# hint: HINT_DENSE_ATTR
class MyModel(tf.keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.layer1 = MyDense(1)

    def call(self, inputs):
        return self.layer1(inputs)
