# alternative: names the layer and the model
class MyModel(tf.keras.Model):
    def __init__(self, **kwargs):
        kwargs.setdefault("name", "my_model")
        super().__init__(**kwargs)
        self.dense = MyDense(1, name="my_dense")

    def call(self, inputs):
        return self.dense(inputs)
