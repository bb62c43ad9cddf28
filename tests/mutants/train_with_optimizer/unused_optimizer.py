# mutant: creates a new SGD optimizer instead of using the one passed in
# hint: HINT_OPTIMIZER_UNUSED
def train_with_optimizer(model, optimizer, inputs, targets, steps):
    sgd = tf.keras.optimizers.SGD(learning_rate=0.1)
    losses = []
    for _ in range(steps):
        loss_value, grads = model_grad(model, inputs, targets)
        sgd.apply_gradients(zip(grads, model.trainable_variables))
        losses.append(float(loss_value))
    return losses
