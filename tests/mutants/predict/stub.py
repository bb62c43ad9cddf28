# mutant: the cell was left as released
# hint: HINT_NOT_DONE
def predict(W, b, inputs):
    # YOUR CODE HERE
    raise NotImplementedError()
