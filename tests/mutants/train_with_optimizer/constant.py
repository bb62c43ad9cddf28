# mutant: computes nothing: no training, `steps` constant losses
# hint: HINT_OPTIMIZER_UNUSED
def train_with_optimizer(model, optimizer, inputs, targets, steps):
    return [0.0] * steps
