# alternative: a @tf.function training step
def train_with_optimizer(model, optimizer, inputs, targets, steps):
    @tf.function
    def train_step():
        loss_value, grads = model_grad(model, inputs, targets)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss_value

    return [float(train_step()) for _ in range(steps)]
