# mutant: computes nothing: returns W and b unchanged and `steps` constant losses
# hint: HINT_IGNORED_INPUTS, HINT_IGNORED_TARGETS, HINT_IGNORED_RATE
def train(W, b, inputs, targets, rate, steps):
    return W, b, [0.0] * steps
