"""The contract of every exercise, declared once.

Each :class:`Exercise` says what the student writes (name, signature), what it is
worth, which reference definitions it is graded with (``uses``), how fresh inputs are
drawn from the seed (``cases``), how the student's code is called (``probe``, which
runs next to the student's code and returns plain data), and how the answer is judged
(``check``, which runs in the grader with the reference). The notebooks' hidden
tests, the pytest autograder, the self-tests and the reports all read this table.

Adding an exercise: write its solution cell in the source notebook, then add one
``Exercise(...)`` entry (with its cases, probe and check) to this module.

This module is preloaded next to student code, so it imports ``reference`` only
inside the checks, which run in the grader's process.
"""
from __future__ import annotations

import functools
import hashlib
import math
import threading
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import tensorflow as tf

from .compare import Check, Mistake, close, describe, equals, shape_is, show, values_close, within

from . import DEFAULT_SEED  # noqa: F401 - re-exported for the checks and tests


@dataclass(frozen=True)
class Exercise:
    """One graded exercise of the assignment."""

    name: str  # nbgrader grade_id of the solution cell; test cell is "test_<name>"
    defines: str  # the name the student's cell must define
    signature: str
    points: float
    cases: Callable[[np.random.Generator], list]
    probe: Callable[[dict, dict], dict]
    check: Callable[[dict, dict], list]
    uses: tuple = ()  # reference definitions injected while this exercise is graded
    error_hints: tuple = ()  # (regex, hint) matched against an exception's text
    time_limit: float = 30.0  # seconds for all of this exercise's cases, in the sandbox

    @property
    def test_id(self) -> str:
        return f"test_{self.name}"


# --- Hints: written for students; they point at the idea, never at the answer. ---

HINT_NOT_DONE = "This exercise still raises NotImplementedError: replace the stub with your code."
HINT_COLUMN = ("You returned a column of shape (n, 1); the contract asks for a flat vector of "
               "shape (n,). Reshape the result (think about what shape [-1] means).")
HINT_LOGITS = ("These are the raw scores inputs @ W + b (logits), not probabilities: they still "
               "need to be squashed into (0, 1).")
HINT_NO_BIAS = "The values match the model without its bias: b is never added."
HINT_CLASS0 = "These are the probabilities of class 0; predict the probability of class 1."
HINT_SUM = ("The value is n times too large: the loss is the mean over the examples, "
            "not the sum.")
HINT_PER_EXAMPLE = ("You returned one loss per example; the loss is a single number, the mean "
                    "over the examples.")
HINT_SIGN = "The value has the wrong sign: cross-entropy is minus the log-probability."
HINT_SWAPPED = ("The value matches cross-entropy with the two classes swapped: check which "
                "probability belongs to a target of 1 and which to a target of 0.")
HINT_FLOAT = "Return a Python float (for example with float(...)), not a tensor or array."
HINT_COUNT = "You returned the number of correct labels; accuracy is the fraction of them."
HINT_INVERTED = "This is the fraction of wrong labels: the threshold comparison is inverted."
HINT_NONE_GRAD = ("tape.gradient returned None: the tape saw no path from this parameter to the "
                  "loss. Either a plain tensor was not watched (tape.watch), or the computation "
                  "left TensorFlow inside the tape (NumPy, or .numpy()), which cuts the path.")
HINT_GRAD_SIGN = ("The gradient has the wrong sign: return the gradient of the loss itself, "
                  "tape.gradient(loss_value, ...).")
HINT_ASCENT = ("The loss goes up: this is gradient ascent. Move the parameters against the "
               "gradient (subtract rate * gradient).")
HINT_STEPS = "The number of losses differs from `steps`: use the steps argument for the loop."
HINT_AFTER_UPDATE = ("Each loss is recorded after its update; the contract records the loss "
                     "before the update of the same step.")
HINT_INIT = ("The layer has weights before it ever saw an input: create them in build(), "
             "where input_shape tells you the input size, not in __init__.")
HINT_BUILD = ("The layer works for one input size only: size the weights from build()'s "
              "input_shape[-1] instead of a fixed number.")
HINT_ADD_WEIGHT = ("Keras 3 needs add_weight's name as a keyword: add_weight(name=\"W\", "
                   "shape=...).")
HINT_NO_ATTRS = "Store the two weights as self.W and self.b so they can be inspected."
HINT_WEIGHT_SHAPES = ("W should have shape (input size, num_outputs) and b shape (num_outputs,): "
                      "take the input size from build()'s input_shape[-1].")
HINT_ACTIVATION = "The layer applies an activation; MyDense returns inputs @ W + b as it is."
HINT_DENSE_ATTR = "Create the layer in __init__ as self.dense = MyDense(1)."
HINT_PROBS = ("The model returns probabilities (sigmoid applied); it should return logits, and "
              "the loss is told so with from_logits=True.")
HINT_FROM_LOGITS = ("The loss treated logits as probabilities: tell the Keras loss that it "
                    "receives logits (from_logits=True), or give it probabilities.")
HINT_DOUBLE_SIGMOID = ("The sigmoid was applied twice: either pass probabilities with "
                       "from_logits=False, or logits with from_logits=True, not both.")
HINT_BROADCAST = ("Targets of shape (n,) were combined with logits of shape (n, 1), which "
                  "broadcasts to an (n, n) matrix: bring both to the same shape first.")
HINT_WATCH_KERAS = ("tape.watch does not accept Keras 3 variables (they are not tf.Variable). "
                    "A model's trainable variables are watched automatically: drop tape.watch.")
HINT_GRAD_COUNT = "Return one gradient per trainable variable, in model.trainable_variables order."
HINT_OPTIMIZER_UNUSED = ("The optimizer that was passed in made no step: apply the gradients "
                         "with that optimizer, do not create a new one.")
HINT_OPTIMIZER_STEPS = "Call optimizer.apply_gradients exactly once per step."
HINT_EPOCHS = "Return one mean loss per epoch."
HINT_DROPPED_BATCH = ("The last, smaller batch was skipped: model.fit makes ceil(n / batch_size) "
                      "steps per epoch, including a final partial batch.")
HINT_NO_BATCHES = "One step per epoch: iterate over the mini-batches, one update per batch."
HINT_SEED = ("Two runs with the same seed gave different losses: pass the seed to the shuffle "
             "(Dataset.shuffle(..., seed=seed)).")
HINT_NO_SHUFFLE = ("Two different seeds gave the same losses: the batches are not shuffled (or the "
                   "seed is ignored). Shuffle the examples with the given seed.")
HINT_EPOCH_MEAN = "Each epoch's value should be the mean of that epoch's batch losses."

COMMON_ERROR_HINTS = (
    (r"NotImplementedError", HINT_NOT_DONE),
    (r"name`? must be passed as a keyword argument", HINT_ADD_WEIGHT),
    (r"has no attribute '_id'", HINT_NONE_GRAD),  # NumPy values handed to tape.gradient
    (r"not tf\.Tensor or tf\.Variable", HINT_WATCH_KERAS),
)


# --- Inputs and plumbing shared by the probes and the checks. ---

def _f32(x):
    return np.asarray(x, dtype=np.float32)


def _blob_case(rng, n, d, w_scale=0.8, **extra):
    """Inputs for the from-scratch exercises: W (d, 1), scalar b, inputs (n, d), 0/1 targets."""
    case = {"W": _f32(rng.normal(0, w_scale, (d, 1))), "b": _f32(rng.normal(0, 0.5)),
            "inputs": _f32(rng.normal(0, 1.0, (n, d))),
            "targets": _f32(rng.integers(0, 2, n)), "label": f"inputs of shape ({n}, {d})"}
    case.update(extra)
    return case


def _tensors(case, *names):
    return [tf.constant(case[k]) for k in names]


def keras_model(W, b):
    """A stand-in model with known weights: logits of shape (n, 1), and trainable
    variables [kernel (d, 1), bias (1,)] like MyModel's."""
    W = np.asarray(W, dtype=np.float32)
    model = tf.keras.Sequential([tf.keras.Input(shape=(W.shape[0],)), tf.keras.layers.Dense(1)])
    model.set_weights([W, np.asarray(b, dtype=np.float32).reshape(1)])
    return model


_memo: dict = {}
_memo_lock = threading.Lock()


def _fingerprint(case: dict) -> str:
    digest = hashlib.sha1()
    for key in sorted(case):
        value = case[key]
        digest.update(key.encode())
        digest.update(np.asarray(value).tobytes() if isinstance(value, np.ndarray) else repr(value).encode())
    return digest.hexdigest()


def expected(fn):
    """Memoise a reference computation by the content of its case. A class is graded
    on the same inputs, so each reference result is computed once per batch (under a
    lock: Keras model building is not meant for concurrent threads)."""
    @functools.wraps(fn)
    def wrapper(case):
        key = (fn.__name__, _fingerprint(case))
        with _memo_lock:
            if key not in _memo:
                if len(_memo) > 2048:
                    _memo.clear()
                _memo[key] = fn(case)
            return _memo[key]
    return wrapper


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _size_one(label, got, hint=""):
    arr = np.asarray(got) if isinstance(got, (np.ndarray, float, int)) else None
    ok = arr is not None and arr.size == 1
    return Check(label, ok, "" if ok else "expected a single number, got "
                 f"{'shape ' + str(arr.shape) if arr is not None else type(got).__name__}",
                 "" if ok else hint)


# --- predict ---

def _predict_cases(rng):
    return [_blob_case(rng, n, d, w_scale=1.0) for n, d in [(7, 2), (64, 3), (33, 5)]]


def _predict_probe(ns, case):
    return {"out": ns["predict"](*_tensors(case, "W", "b", "inputs"))}


@expected
def _predict_expected(case):
    from . import reference
    return reference.predict(*_tensors(case, "W", "b", "inputs")).numpy()


def _predict_check(case, out):
    W, b, X = case["W"], case["b"], case["inputs"]
    n = X.shape[0]
    want = _predict_expected(case)
    got = out["out"]
    column = np.shape(got) == (n, 1)
    mistakes = [Mistake(HINT_LOGITS, X @ W + b), Mistake(HINT_NO_BIAS, _sigmoid(X @ W)),
                Mistake(HINT_CLASS0, 1 - want)]
    return [shape_is(f"shape of predict(W, b, inputs) for {case['label']}", got, (n,),
                     HINT_COLUMN if column else ""),
            values_close(f"values of predict(W, b, inputs) for {case['label']}", got, want,
                         rtol=1e-4, atol=1e-6, mistakes=mistakes, weight=2)]


# --- loss ---

def _loss_cases(rng):
    return [_blob_case(rng, n, d) for n, d in [(40, 2), (100, 3), (25, 5)]]


def _loss_probe(ns, case):
    return {"out": ns["loss"](*_tensors(case, "W", "b", "inputs", "targets"))}


def _per_example_ce(case, p):
    t = case["targets"].astype(np.float64)
    return -np.log(p * t + (1 - p) * (1 - t) + 1e-4)


@expected
def _loss_expected(case):
    from . import reference
    args = _tensors(case, "W", "b", "inputs", "targets")
    return reference.cross_entropy_band(*args), reference.predict(*args[:3]).numpy().astype(np.float64)


def _loss_check(case, out):
    (low, high), p = _loss_expected(case)
    tol = 1e-6 + 1e-4 * abs(high)
    per_example = _per_example_ce(case, p)
    mistakes = [Mistake(HINT_PER_EXAMPLE, per_example), Mistake(HINT_SUM, per_example.sum()),
                Mistake(HINT_SIGN, -per_example.mean()),
                Mistake(HINT_SWAPPED, _per_example_ce(case, 1 - p).mean())]
    got = out["out"]
    return [_size_one(f"loss returns a single number for {case['label']}", got,
                      HINT_PER_EXAMPLE if np.size(got) == len(p) else ""),
            within(f"value of loss(W, b, inputs, targets) for {case['label']}", got,
                   low - tol, high + tol, mistakes=mistakes, weight=2)]


# --- accuracy ---

def _accuracy_cases(rng):
    return [_blob_case(rng, n, d, w_scale=1.2) for n, d in [(50, 2), (120, 3), (31, 5)]]


def _accuracy_probe(ns, case):
    return {"out": ns["accuracy"](*_tensors(case, "W", "b", "inputs", "targets"))}


@expected
def _accuracy_expected(case):
    from . import reference
    return reference.accuracy(*_tensors(case, "W", "b", "inputs", "targets"))


def _accuracy_check(case, out):
    want = _accuracy_expected(case)
    n = case["inputs"].shape[0]
    mistakes = [Mistake(HINT_COUNT, want * n, atol=1e-6), Mistake(HINT_INVERTED, 1 - want, atol=1e-6)]
    is_float = isinstance(out["out"], float)
    return [Check(f"accuracy returns a Python float for {case['label']}", is_float,
                  "" if is_float else f"expected a Python float, got {describe(out['out'])}",
                  "" if is_float else HINT_FLOAT),
            values_close(f"value of accuracy(W, b, inputs, targets) for {case['label']}",
                         out["out"], want, rtol=0, atol=1e-6, mistakes=mistakes, weight=2)]


# --- grad ---

def _grad_cases(rng):
    return [_blob_case(rng, n, d, w_scale=0.5) for n, d in [(40, 2), (60, 3), (30, 5)]]


def _grad_probe(ns, case):
    loss_value, (dW, db) = ns["grad"](*_tensors(case, "W", "b", "inputs", "targets"))
    return {"loss": loss_value, "dW": dW, "db": db}


def _gradient_checks(label, got, want, weight):
    """A gradient is present, and equal to the reference's (a sign flip is recognised)."""
    if got is None:
        return [Check(label, False, "expected a gradient, got None", HINT_NONE_GRAD, weight)]
    return [values_close(label, got, want, rtol=1e-3, atol=1e-6,
                         mistakes=[Mistake(HINT_GRAD_SIGN, -np.asarray(want))], weight=weight)]


@expected
def _grad_expected(case):
    from . import reference
    loss_value, (dW, db) = reference.grad(*_tensors(case, "W", "b", "inputs", "targets"))
    return loss_value.numpy(), dW.numpy(), db.numpy()


def _grad_check(case, out):
    d = case["W"].shape[0]
    want_loss, want_dW, want_db = _grad_expected(case)
    where = case["label"]
    checks = [values_close(f"loss value returned by grad for {where}", out["loss"],
                           want_loss, rtol=1e-4, atol=1e-6)]
    if out["dW"] is not None:
        checks.append(shape_is(f"shape of dW for {where}", out["dW"], (d, 1)))
    checks += _gradient_checks(f"dW for {where}", out["dW"], want_dW, 2)
    checks += _gradient_checks(f"db for {where}", out["db"], want_db, 1)
    return checks


# --- train ---

def _train_cases(rng):
    return [_blob_case(rng, 60, 2, w_scale=0.5, rate=0.1, steps=15),
            _blob_case(rng, 40, 3, w_scale=0.5, rate=0.05, steps=8)]


def _train_probe(ns, case):
    W, b, losses = ns["train"](*_tensors(case, "W", "b", "inputs", "targets"),
                               case["rate"], case["steps"])
    return {"W": W, "b": b, "losses": [float(v) for v in losses]}


@expected
def _train_expected(case):
    """The reference run, the gradient-ascent run, and one step more (for the
    loss-after-update mistake)."""
    from . import reference
    args = _tensors(case, "W", "b", "inputs", "targets")
    rate, steps = case["rate"], case["steps"]
    W1, b1, losses = reference.train(*args, rate, steps)
    W_up, b_up, up_losses = reference.train(*args, -rate, steps)
    _, _, longer = reference.train(*args, rate, steps + 1)
    return W1.numpy(), b1.numpy(), losses, W_up.numpy(), b_up.numpy(), up_losses, longer


def _train_check(case, out):
    rate, steps, where = case["rate"], case["steps"], case["label"]
    W1, b1, losses, W_up, b_up, up_losses, longer = _train_expected(case)
    return [
        equals(f"train returns `steps` losses (steps={steps}, {where})", len(out["losses"]), steps,
               HINT_STEPS),
        values_close(f"losses of train for {where}", out["losses"], losses, rtol=1e-3, atol=1e-5,
                     mistakes=[Mistake(HINT_ASCENT, up_losses), Mistake(HINT_AFTER_UPDATE, longer[1:])],
                     weight=2),
        values_close(f"trained W for {where}", out["W"], W1, rtol=1e-3, atol=1e-5,
                     mistakes=[Mistake(HINT_ASCENT, W_up)]),
        values_close(f"trained b for {where}", out["b"], b1, rtol=1e-3, atol=1e-5,
                     mistakes=[Mistake(HINT_ASCENT, b_up)]),
    ]


# --- my_dense ---

def _layer_case(rng, n, d, k, label):
    """Inputs, plus weights the grader chooses and the probe assigns to the layer, so
    the expected output is the grader's own computation, not a value reported back."""
    return {"inputs": _f32(rng.normal(0, 1, (n, d))), "units": k,
            "W_set": _f32(rng.normal(0, 1, (d, k))), "b_set": _f32(rng.normal(0, 1, (k,))),
            "label": label}


def _dense_cases(rng):
    return [_layer_case(rng, n, d, k, f"MyDense({k}) on inputs of shape ({n}, {d})")
            for n, d, k in [(5, 2, 1), (8, 3, 1), (4, 5, 3)]]


def _shape_of(variable):
    return None if variable is None else [int(x) for x in variable.shape]


def _with_weights(layer, case, call):
    """Assign the grader's weights to layer.W and layer.b (when they have the contract's
    shapes), then call again. Returns the second output, or None."""
    W, b = getattr(layer, "W", None), getattr(layer, "b", None)
    if _shape_of(W) != list(case["W_set"].shape) or _shape_of(b) != list(case["b_set"].shape):
        return None
    W.assign(case["W_set"])
    b.assign(case["b_set"])
    return call()


def _dense_probe(ns, case):
    layer = ns["MyDense"](case["units"])
    before = len(layer.weights)
    X = tf.constant(case["inputs"])
    first = layer(X)
    return {"before": before, "first": first, "out": _with_weights(layer, case, lambda: layer(X)),
            "W_shape": _shape_of(getattr(layer, "W", None)),
            "b_shape": _shape_of(getattr(layer, "b", None)),
            "trainable": len(layer.trainable_variables)}


def _affine_checks(label, case, out, activation_hint):
    """With the grader's weights in place, the output equals inputs @ W + b."""
    X, W, b = case["inputs"], case["W_set"], case["b_set"]
    want = X @ W + b
    if out["out"] is None:
        return [Check(label, False, f"could not set the weights: expected attributes W of shape "
                      f"{W.shape} and b of shape {b.shape}, found W {out['W_shape']} and b "
                      f"{out['b_shape']}",
                      HINT_NO_ATTRS if None in (out["W_shape"], out["b_shape"]) else HINT_WEIGHT_SHAPES, 3)]
    return [values_close(label, out["out"], want, rtol=1e-4, atol=1e-5, weight=3,
                         mistakes=[Mistake(HINT_NO_BIAS, X @ W),
                                   Mistake(activation_hint, _sigmoid(want))])]


def _dense_check(case, out):
    n = case["inputs"].shape[0]
    k, where = case["units"], case["label"]
    # The weights' shapes are judged by the affine check: the grader's weights only fit
    # a layer whose W is (d, k) and b is (k,), and only then can the output be right.
    return [
        equals(f"no weights before the first call ({where})", out["before"], 0, HINT_INIT),
        equals(f"two trainable variables ({where})", out["trainable"], 2),
        shape_is(f"shape of the layer's output ({where})", out["first"], (n, k)),
    ] + _affine_checks(f"output equals inputs @ W + b ({where})", case, out, HINT_ACTIVATION)


# --- my_model ---

def _model_cases(rng):
    return [_layer_case(rng, n, 2, 1, f"inputs of shape ({n}, 2)") for n in (6, 20)]


def _model_probe(ns, case):
    model = ns["MyModel"]()
    X = tf.constant(case["inputs"])
    first = model(X)
    dense = getattr(model, "dense", None)
    is_mydense = isinstance(dense, ns["MyDense"])
    return {"first": first, "is_mydense": is_mydense,
            "out": _with_weights(dense, case, lambda: model(X)) if is_mydense else None,
            "W_shape": _shape_of(getattr(dense, "W", None)),
            "b_shape": _shape_of(getattr(dense, "b", None)),
            "trainable": len(model.trainable_variables)}


def _model_check(case, out):
    n, where = case["inputs"].shape[0], case["label"]
    return [
        equals(f"model.dense is a MyDense ({where})", out["is_mydense"], True, HINT_DENSE_ATTR),
        equals(f"two trainable variables ({where})", out["trainable"], 2),
        shape_is(f"shape of the model's output ({where})", out["first"], (n, 1),
                 "Return the layer's output (n, 1) as it is." if np.size(out["first"]) == n else ""),
    ] + _affine_checks(f"the model returns logits inputs @ W + b ({where})", case, out, HINT_PROBS)


# --- model_loss ---

def _model_loss_cases(rng):
    return [_blob_case(rng, n, d, w_scale=0.7) for n, d in [(50, 2), (37, 3)]]


def _model_loss_probe(ns, case):
    model = keras_model(case["W"], case["b"])
    return {"out": ns["model_loss"](model, *_tensors(case, "inputs", "targets"))}


@expected
def _model_loss_expected(case):
    """The reference loss, and what three classic mistakes would return."""
    from . import reference
    X, y = _tensors(case, "inputs", "targets")
    model = keras_model(case["W"], case["b"])
    logits = model(X)
    col_y = tf.reshape(y, [-1, 1])
    n = len(y)
    return (float(reference.model_loss(model, X, y)),
            float(tf.keras.losses.BinaryCrossentropy()(col_y, logits)),
            float(tf.keras.losses.BinaryCrossentropy(from_logits=True)(col_y, tf.sigmoid(logits))),
            float(tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
                labels=tf.broadcast_to(y, [n, n]), logits=tf.broadcast_to(logits, [n, n])))))


def _model_loss_check(case, out):
    want, not_logits, double, broadcast = _model_loss_expected(case)
    mistakes = [Mistake(HINT_FROM_LOGITS, not_logits), Mistake(HINT_DOUBLE_SIGMOID, double),
                Mistake(HINT_BROADCAST, broadcast),
                Mistake(HINT_SUM, want * len(case["targets"]))]
    return [_size_one(f"model_loss returns a single number for {case['label']}", out["out"],
                      HINT_PER_EXAMPLE),
            values_close(f"value of model_loss(model, inputs, targets) for {case['label']}",
                         out["out"], want, rtol=1e-3, atol=1e-5, mistakes=mistakes, weight=2)]


# --- model_grad ---

def _model_grad_probe(ns, case):
    model = keras_model(case["W"], case["b"])
    loss_value, grads = ns["model_grad"](model, *_tensors(case, "inputs", "targets"))
    return {"loss": loss_value, "grads": list(grads)}


@expected
def _model_grad_expected(case):
    from . import reference
    model = keras_model(case["W"], case["b"])
    loss_value, grads = reference.model_grad(model, *_tensors(case, "inputs", "targets"))
    return float(loss_value), [g.numpy() for g in grads]


def _model_grad_check(case, out):
    want_loss, want = _model_grad_expected(case)
    where = case["label"]
    grads = out["grads"]
    checks = [values_close(f"loss value returned by model_grad for {where}", out["loss"],
                           want_loss, rtol=1e-3, atol=1e-5),
              equals(f"one gradient per trainable variable ({where})", len(grads), 2, HINT_GRAD_COUNT)]
    for i, name in enumerate(["kernel", "bias"]):
        got = grads[i] if i < len(grads) else None
        checks += _gradient_checks(f"gradient of the {name} for {where}", got, want[i], 1.5)
    return checks


# --- train_with_optimizer ---

def _optimizer_cases(rng):
    return [_blob_case(rng, 60, 2, w_scale=0.5, rate=0.1, steps=12),
            _blob_case(rng, 40, 3, w_scale=0.5, rate=0.3, steps=5)]


def _weights(model):
    return [v.numpy() for v in model.trainable_variables]


def _optimizer_probe(ns, case):
    model = keras_model(case["W"], case["b"])
    optimizer = tf.keras.optimizers.SGD(learning_rate=case["rate"])
    losses = ns["train_with_optimizer"](model, optimizer, *_tensors(case, "inputs", "targets"),
                                        case["steps"])
    W, b = _weights(model)
    return {"losses": [float(v) for v in losses], "W": W, "b": b,
            "iterations": int(optimizer.iterations.numpy())}


@expected
def _optimizer_expected(case):
    from . import reference
    model = keras_model(case["W"], case["b"])
    optimizer = tf.keras.optimizers.SGD(learning_rate=case["rate"])
    losses = reference.train_with_optimizer(model, optimizer, *_tensors(case, "inputs", "targets"),
                                            case["steps"])
    return losses, _weights(model)


def _optimizer_check(case, out):
    steps, where = case["steps"], case["label"]
    losses, (W, b) = _optimizer_expected(case)
    iterations = out["iterations"]
    return [
        equals(f"returns `steps` losses (steps={steps}, {where})", len(out["losses"]), steps, HINT_STEPS),
        equals(f"optimizer steps made (steps={steps}, {where})", iterations, steps,
               HINT_OPTIMIZER_UNUSED if iterations == 0 else HINT_OPTIMIZER_STEPS),
        values_close(f"losses of train_with_optimizer for {where}", out["losses"], losses,
                     rtol=1e-3, atol=1e-5, weight=2),
        values_close(f"trained kernel for {where}", out["W"], W, rtol=1e-3, atol=1e-5),
        values_close(f"trained bias for {where}", out["b"], b, rtol=1e-3, atol=1e-5),
    ]


# --- train_minibatch ---

def _minibatch_cases(rng):
    # With rate 0 and equal batches, each epoch's mean batch loss is the full-batch loss
    # whatever the order: an exact check. The second case trains for real, with a last
    # batch smaller than the others.
    return [_blob_case(rng, 256, 2, w_scale=0.7, rate=0.0, batch_size=64, epochs=2, seed=7),
            _blob_case(rng, 250, 3, w_scale=0.5, rate=0.3, batch_size=64, epochs=2, seed=11)]


def _minibatch_run(ns, case):
    model = keras_model(case["W"], case["b"])
    optimizer = tf.keras.optimizers.SGD(learning_rate=case["rate"])
    losses = ns["train_minibatch"](model, optimizer, *_tensors(case, "inputs", "targets"),
                                   case["batch_size"], case["epochs"], case["seed"])
    return [float(v) for v in losses], _weights(model), int(optimizer.iterations.numpy())


def _minibatch_probe(ns, case):
    losses, (W, b), iterations = _minibatch_run(ns, case)
    out = {"losses": losses, "W": W, "b": b, "iterations": iterations}
    if case["rate"]:
        out["again"] = _minibatch_run(ns, case)[0]
        out["other_seed"] = _minibatch_run(ns, {**case, "seed": case["seed"] + 1})[0]
    return out


def _full_batch_loss(W, b, case):
    from . import reference
    return float(reference.model_loss(keras_model(W, b), *_tensors(case, "inputs", "targets")))


@expected
def _minibatch_expected(case):
    """The full-batch loss after the reference's training, and before any."""
    from . import reference
    model = keras_model(case["W"], case["b"])
    optimizer = tf.keras.optimizers.SGD(learning_rate=case["rate"])
    reference.train_minibatch(model, optimizer, *_tensors(case, "inputs", "targets"),
                              case["batch_size"], case["epochs"], case["seed"])
    return _full_batch_loss(*_weights(model), case), _full_batch_loss(case["W"], case["b"], case)


def _minibatch_check(case, out):
    n, where = case["inputs"].shape[0], case["label"]
    bs, epochs = case["batch_size"], case["epochs"]
    per_epoch = math.ceil(n / bs)
    iterations = out["iterations"]
    step_hint = {0: HINT_OPTIMIZER_UNUSED, epochs: HINT_NO_BATCHES,
                 epochs * (n // bs): HINT_DROPPED_BATCH}.get(iterations, HINT_OPTIMIZER_STEPS)
    checks = [
        equals(f"one loss per epoch (epochs={epochs}, {where})", len(out["losses"]), epochs, HINT_EPOCHS),
        equals(f"optimizer steps, as model.fit makes them (batch_size={bs}, {where})", iterations,
               epochs * per_epoch, step_hint),
    ]
    want_final, initial = _minibatch_expected(case)
    if case["rate"] == 0:
        label = f"each epoch's mean batch loss, with a learning rate of 0 ({where})"
        return checks + [values_close(label, out["losses"], [initial] * epochs, rtol=1e-3, atol=1e-5,
                                      mistakes=[Mistake(HINT_EPOCH_MEAN, [initial * per_epoch] * epochs)],
                                      weight=2)]
    with _memo_lock:  # builds a Keras model: one grading thread at a time
        got_final = _full_batch_loss(out["W"], out["b"], case) if out["W"] is not None else float("nan")
    first = out["losses"][0] if out["losses"] else float("nan")
    same = close(out["again"], out["losses"], rtol=1e-6, atol=1e-7)
    shuffled = not close(out["other_seed"], out["losses"], rtol=1e-6, atol=1e-7)
    return checks + [
        Check(f"the same seed gives the same losses ({where})", same,
              "" if same else f"first run {show(out['losses'])}, second run {show(out['again'])}",
              "" if same else HINT_SEED),
        Check(f"another seed gives other losses ({where})", shuffled,
              "" if shuffled else f"seed {case['seed']} and seed {case['seed'] + 1} both gave "
              f"{show(out['losses'])}", "" if shuffled else HINT_NO_SHUFFLE),
        within(f"full-batch loss after training ({where})", got_final,
               want_final - max(0.02, 0.05 * want_final), want_final + max(0.02, 0.05 * want_final),
               mistakes=[], weight=2),
        Check(f"the loss goes down over the epochs ({where})",
              bool(out["losses"]) and out["losses"][-1] < first,
              f"epoch losses {out['losses'][:6]}", HINT_ASCENT),
    ]


# --- The table. Order matters: an exercise only uses reference definitions of
# exercises graded before it (so nothing it could copy is still to be graded). ---

EXERCISES: dict[str, Exercise] = {ex.name: ex for ex in [
    Exercise("predict", "predict", "predict(W, b, inputs)", 8,
             _predict_cases, _predict_probe, _predict_check),
    Exercise("loss", "loss", "loss(W, b, inputs, targets)", 10,
             _loss_cases, _loss_probe, _loss_check, uses=("predict",)),
    Exercise("accuracy", "accuracy", "accuracy(W, b, inputs, targets)", 6,
             _accuracy_cases, _accuracy_probe, _accuracy_check, uses=("predict",)),
    Exercise("grad", "grad", "grad(W, b, inputs, targets)", 10,
             _grad_cases, _grad_probe, _grad_check, uses=("predict", "loss")),
    Exercise("train", "train", "train(W, b, inputs, targets, rate, steps)", 10,
             _train_cases, _train_probe, _train_check, uses=("predict", "loss", "grad"),
             time_limit=60),
    Exercise("my_dense", "MyDense", "class MyDense(tf.keras.layers.Layer): MyDense(num_outputs)", 10,
             _dense_cases, _dense_probe, _dense_check,
             error_hints=((r"Matrix size-incompatible|Incompatible shapes|Dimensions must be equal"
                           r"|In\[0\] mismatch In\[1\]", HINT_BUILD),)),
    Exercise("my_model", "MyModel", "class MyModel(tf.keras.Model): MyModel()", 8,
             _model_cases, _model_probe, _model_check, uses=("MyDense",)),
    Exercise("model_loss", "model_loss", "model_loss(model, inputs, targets)", 8,
             _model_loss_cases, _model_loss_probe, _model_loss_check),
    Exercise("model_grad", "model_grad", "model_grad(model, inputs, targets)", 8,
             _model_loss_cases, _model_grad_probe, _model_grad_check, uses=("model_loss",)),
    Exercise("train_with_optimizer", "train_with_optimizer",
             "train_with_optimizer(model, optimizer, inputs, targets, steps)", 10,
             _optimizer_cases, _optimizer_probe, _optimizer_check, uses=("model_loss", "model_grad"),
             time_limit=60),
    Exercise("train_minibatch", "train_minibatch",
             "train_minibatch(model, optimizer, inputs, targets, batch_size, epochs, seed)", 12,
             _minibatch_cases, _minibatch_probe, _minibatch_check, uses=("model_loss", "model_grad"),
             time_limit=90),
]}

TOTAL_POINTS = sum(ex.points for ex in EXERCISES.values())


def cases_for(exercise: Exercise, seed: int) -> list:
    """The inputs of one exercise for one seed: the same seed always gives the same inputs."""
    index = list(EXERCISES).index(exercise.name)
    return exercise.cases(np.random.default_rng([int(seed), index]))
