# mutant: calls tape.watch on the model's Keras 3 variables
# hint: HINT_WATCH_KERAS
def model_grad(model, inputs, targets):
    with tf.GradientTape() as tape:
        tape.watch(model.trainable_variables)
        loss_value = model_loss(model, inputs, targets)
    return loss_value, tape.gradient(loss_value, model.trainable_variables)
