# mutant: computes nothing: returns the Python float 0.0 whatever the arguments
# hint: HINT_NO_THRESHOLD
def accuracy(W, b, inputs, targets):
    return 0.0
