# mutant: computes nothing: no training, one constant loss per epoch
# hint: HINT_OPTIMIZER_UNUSED
def train_minibatch(model, optimizer, inputs, targets, batch_size, epochs, seed):
    return [0.0] * epochs
