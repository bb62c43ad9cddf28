# mutant: updates the variables by hand with assign_sub, bypassing the optimizer
# hint: HINT_OPTIMIZER_UNUSED
def train_with_optimizer(model, optimizer, inputs, targets, steps):
    losses = []
    for _ in range(steps):
        loss_value, grads = model_grad(model, inputs, targets)
        for variable, g in zip(model.trainable_variables, grads):
            variable.assign_sub(0.1 * g)
        losses.append(float(loss_value))
    return losses
