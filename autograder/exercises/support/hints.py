"""Hints shared by several exercises, written for students: they point at the idea,
never at the answer. Hints used by one exercise live in that exercise's module."""
from autograder.exercises.support.variants import idea

HINT_NOT_DONE = "This exercise still raises NotImplementedError: replace the stub with your code."
HINT_NO_BIAS = "The values match the model without its bias: b is never added."
HINT_SUM = ("The value is n times too large: the loss is the mean over the examples, "
            "not the sum.")
HINT_PER_EXAMPLE = ("You returned one loss per example; the loss is a single number, the mean "
                    "over the examples.")
HINT_NONE_GRAD = ("tape.gradient returned None: the tape saw no path from this parameter to the "
                  "loss. Either a plain tensor was not watched (tape.watch), or the computation "
                  "left TensorFlow inside the tape (NumPy, or .numpy()), which cuts the path.")
HINT_GRAD_SIGN = ("The gradient has the wrong sign: it is the gradient of minus the loss. Revisit "
                  "what the tape is asked to differentiate: the loss itself, as computed under it.")
HINT_ASCENT = ("The loss went up step after step: each update moved the parameters with the "
               "gradient, which climbs the loss. Revisit which way the gradient points and which "
               "way gradient descent has to go.")
HINT_STEPS = "The number of losses differs from `steps`: use the steps argument for the loop."
HINT_ADD_WEIGHT = ("Keras 3 refused add_weight's arguments: it takes a weight's name as a "
                   "keyword argument only, not as the first positional one (the notebook's text "
                   "before MyDense says so).")
HINT_NO_ATTRS = "Store the two weights as self.W and self.b so they can be inspected."
HINT_WEIGHT_SHAPES = ("W should have shape (input size, num_outputs) and b shape (num_outputs,): "
                      "take the input size from build()'s input_shape[-1].")
HINT_WATCH_KERAS = ("tape.watch does not accept Keras 3 variables (they are not tf.Variable). "
                    "A model's trainable variables are watched automatically: drop tape.watch.")
HINT_OPTIMIZER_UNUSED = ("The optimizer that was passed in made no step: apply the gradients "
                         "with that optimizer, do not create a new one.")
HINT_OPTIMIZER_STEPS = "Call optimizer.apply_gradients exactly once per step."
HINT_NOT_GRADIENT = idea("These are not the gradients of the loss for these parameters: compute the "
                         "loss under the tape from the very tensors you differentiate for, and ask "
                         "tape.gradient for them.")
HINT_NOT_LOSS_VALUE = idea("The loss value returned is not the loss of these arguments: return the "
                           "value computed under the tape, before any update.")

# Matched against the text of any exception, in every exercise.
COMMON_ERROR_HINTS = (
    (r"NotImplementedError", HINT_NOT_DONE),
    (r"name`? must be passed as a keyword argument", HINT_ADD_WEIGHT),
    (r"has no attribute '_id'", HINT_NONE_GRAD),  # NumPy values handed to tape.gradient
    (r"not tf\.Tensor or tf\.Variable", HINT_WATCH_KERAS),
)
