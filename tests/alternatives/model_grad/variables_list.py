# alternative: captures the variables once before the tape and returns a tuple
def model_grad(model, inputs, targets):
    variables = model.trainable_variables
    with tf.GradientTape(watch_accessed_variables=True) as tape:
        loss_value = model_loss(model, inputs, targets)
    return loss_value, tuple(tape.gradient(loss_value, variables))
