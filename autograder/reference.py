"""The instructor's reference implementation of every exercise.

Only the grader's own process imports this module. While an exercise is graded, the
reference versions of the exercises it builds on (``Exercise.uses``) are put in the
student's namespace, so one mistake costs points once. Those definitions travel to
the sandbox as source text, so each must only use ``tf``, ``np`` and other contract
names (no helpers of this module).
"""
import numpy as np
import tensorflow as tf


def predict(W, b, inputs):
    return tf.reshape(tf.sigmoid(tf.matmul(inputs, W) + b), [-1])


def loss(W, b, inputs, targets):
    p = predict(W, b, inputs)
    label_probs = p * targets + (1 - p) * (1 - targets)
    return tf.reduce_mean(-tf.math.log(label_probs + 1e-4))


def accuracy(W, b, inputs, targets):
    hits = tf.cast(predict(W, b, inputs) > 0.5, targets.dtype) == targets
    return float(tf.reduce_mean(tf.cast(hits, tf.float32)))


def grad(W, b, inputs, targets):
    with tf.GradientTape() as tape:
        tape.watch(W)
        tape.watch(b)
        loss_value = loss(W, b, inputs, targets)
    return loss_value, tuple(tape.gradient(loss_value, [W, b]))


def train(W, b, inputs, targets, rate, steps):
    losses = []
    for _ in range(steps):
        loss_value, (dW, db) = grad(W, b, inputs, targets)
        losses.append(float(loss_value))
        W, b = W - rate * dW, b - rate * db
    return W, b, losses


class MyDense(tf.keras.layers.Layer):
    def __init__(self, num_outputs, **kwargs):
        super().__init__(**kwargs)
        self.num_outputs = num_outputs

    def build(self, input_shape):
        self.W = self.add_weight(name="W", shape=(int(input_shape[-1]), self.num_outputs))
        self.b = self.add_weight(name="b", shape=(self.num_outputs,), initializer="zeros")

    def call(self, inputs):
        return tf.matmul(inputs, self.W) + self.b


class MyModel(tf.keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = MyDense(1)

    def call(self, inputs):
        return self.dense(inputs)


def model_loss(model, inputs, targets):
    logits = tf.reshape(model(inputs), [-1])
    return tf.keras.losses.BinaryCrossentropy(from_logits=True)(targets, logits)


def model_grad(model, inputs, targets):
    with tf.GradientTape() as tape:
        loss_value = model_loss(model, inputs, targets)
    return loss_value, tape.gradient(loss_value, model.trainable_variables)


def train_with_optimizer(model, optimizer, inputs, targets, steps):
    losses = []
    for _ in range(steps):
        loss_value, grads = model_grad(model, inputs, targets)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        losses.append(float(loss_value))
    return losses


def train_minibatch(model, optimizer, inputs, targets, batch_size, epochs, seed):
    n = int(inputs.shape[0])
    data = tf.data.Dataset.from_tensor_slices((inputs, targets))
    batches = data.shuffle(n, seed=seed).batch(batch_size)
    epoch_losses = []
    for _ in range(epochs):
        batch_losses = []
        for x, t in batches:
            loss_value, grads = model_grad(model, x, t)
            optimizer.apply_gradients(zip(grads, model.trainable_variables))
            batch_losses.append(float(loss_value))
        epoch_losses.append(float(np.mean(batch_losses)))
    return epoch_losses


def cross_entropy_band(W, b, inputs, targets):
    """The exact mean cross-entropy and the one with 1e-3 inside the log: every loss
    written with an epsilon of at most 1e-3 (the tutorial's 1e-4, Keras' 1e-7 clip)
    lies between the two. Returns (low, high)."""
    p = tf.cast(predict(W, b, inputs), tf.float64)
    t = tf.cast(targets, tf.float64)
    label_probs = p * t + (1 - p) * (1 - t)
    high = float(tf.reduce_mean(-tf.math.log(tf.maximum(label_probs, 1e-300))))
    low = float(tf.reduce_mean(-tf.math.log(label_probs + 1e-3)))
    return low, high
