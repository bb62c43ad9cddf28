"""What runs next to student code: executing cells and probing exercises.

The sandboxed process runs :func:`serve` (driven over the channel by ``grade``); the
kit's own tests call :func:`run_exercise` in their process with the same stand-ins, so
both call student code in exactly the same way. Nothing here knows the reference
answers: what an exercise builds on is replaced by stand-ins that ask the grader.
"""
from __future__ import annotations

import contextlib
import io
import linecache
import re
import traceback

from autograder.boundary import wire
from autograder.exercises import EXERCISES

MAX_ERROR_CHARS = 600
_TERMINAL_NOISE = re.compile(r"\x1b\[[0-9;]*m|\{\{function_node [^}]*\}\}")


def describe_error(exc: BaseException) -> str:
    """'ValueError: message' on one line (TensorFlow's colour codes and kernel names
    removed), shortened, plus the last line of student code involved."""
    try:
        text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    except Exception:  # noqa: BLE001 - a hostile __str__ must not break grading
        text = type(exc).__name__
    text = " ".join(_TERMINAL_NOISE.sub("", text).split())
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith("<cell")]
    if frames:
        last = frames[-1]
        text = text[:MAX_ERROR_CHARS]
        text += f" (in {last.filename.strip('<>')}, line {last.lineno}: {(last.line or '').strip()})"
    return text[:MAX_ERROR_CHARS + 200]


@contextlib.contextmanager
def injected(namespace: dict, definitions: dict):
    """Put stand-ins into the student's namespace for one exercise, and put the
    student's own names back afterwards."""
    missing = object()
    saved = {name: namespace.get(name, missing) for name in definitions}
    namespace.update(definitions)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is missing:
                namespace.pop(name, None)
            else:
                namespace[name] = value


def run_exercise(exercise, namespace: dict, cases: list, definitions: dict,
                 to_plain=wire.to_plain) -> list:
    """Probe one exercise on every case, with ``definitions`` (the stand-ins of what it
    uses) in place. Returns one outcome per case: ``{"ok": data}``, ``{"error": text}``
    or ``{"missing": name}``."""
    if exercise.defines not in namespace:
        return [{"missing": exercise.defines}] * len(cases)
    outcomes = []
    with injected(namespace, definitions):
        for case in cases:
            try:
                outcomes.append({"ok": to_plain(exercise.probe(namespace, case))})
            except BaseException as exc:  # noqa: BLE001 - SystemExit too: it is the student's error
                outcomes.append({"error": describe_error(exc)})
    return outcomes


# --- Stand-ins: what replaces, during one exercise, the exercises it builds on ---
#
# The reference never comes into this process. A stand-in sends its arguments (as
# arrays) to the grader, which has the course's reference compute the value, or the
# gradient for a cotangent, in its own process (``reference.ANSWERS``). The stand-ins
# of live objects that cannot travel (a layer) are Keras built-ins, which show nothing
# the notebook's text does not. ``call(name, args, cotangent=None)`` is the channel.


class ReferenceRefused(Exception):
    """The grader would not compute a stand-in's value (the student's arguments did not
    fit what the exercise takes)."""


def _float_dtype(tensors):
    return next((t.dtype for t in tensors if t.dtype.is_floating), None)


def _remote(call, name, tensors, dtypes, cotangent=None):
    """``call`` on the tensors' values (and the cotangent's), as tensors of ``dtypes``;
    inside a ``tf.function`` through ``tf.py_function``, since symbolic tensors have no
    values. A gradient the grader reports as None (an argument that is not a float)
    comes back as zeros."""
    import tensorflow as tf
    count = len(tensors)

    def eager(*xs):
        args, rest = xs[:count], xs[count:]
        values = call(name, [x.numpy() for x in args], rest[0].numpy() if rest else None)
        values = values if isinstance(values, list) else [values]
        return [tf.zeros(tf.shape(args[i]), d) if v is None else tf.constant(v, dtype=d)
                for i, (v, d) in enumerate(zip(values, dtypes))]
    inputs = [*tensors, *([] if cotangent is None else [cotangent])]
    if tf.executing_eagerly():
        return eager(*inputs)
    return tf.py_function(eager, inputs, Tout=list(dtypes))


def tensor_stand_in(name, call):
    """A differentiable function of tensors (``predict``, ``loss``): the value and the
    gradients come from the grader, so a tape sees through it like through the real one."""
    import tensorflow as tf

    def stand_in(*args):
        xs = [tf.convert_to_tensor(a) for a in args]
        dtype = _float_dtype(xs) or tf.float32

        @tf.custom_gradient
        def forward(*xs):
            value, = _remote(call, name, xs, [dtype])

            def backward(upstream, variables=None):
                grads = _remote(call, name, xs, [x.dtype for x in xs], tf.cast(upstream, dtype))
                grads = [g if x.dtype.is_floating else None for g, x in zip(grads, xs)]
                # Variables are only ever seen here when the reference runs in this
                # process (``local``); they are its own, and get no gradient.
                return (grads, [None] * len(variables)) if variables else grads
            return value, backward
        return forward(*xs)
    return stand_in


def loss_and_gradients_stand_in(name, call):
    """``grad``: (loss, (dW, db)) computed by the grader, as constants."""
    import tensorflow as tf

    def stand_in(*args):
        xs = [tf.convert_to_tensor(a) for a in args]
        dtype = _float_dtype(xs) or tf.float32
        if tf.executing_eagerly():
            flat = _flat(call(name, [x.numpy() for x in xs]), dtype)
        else:
            flat = tf.py_function(lambda *ys: _flat(call(name, [y.numpy() for y in ys]), dtype), xs,
                                  Tout=[dtype] * 3)
        return flat[0], tuple(flat[1:])
    return stand_in


def _flat(values, dtype):
    """The grader's [loss, [dW, db]] as three tensors."""
    import tensorflow as tf
    value, pair = values
    return [tf.constant(v, dtype) for v in (value, *pair)]


def logits_loss_stand_in(name, call):
    """``model_loss``: the model runs here; the loss of its logits, and the gradient
    for them, come from the grader."""
    loss_of_logits = tensor_stand_in(name, call)

    def model_loss(model, inputs, targets):
        return loss_of_logits(model(inputs), targets)
    return model_loss


def logits_grad_stand_in(name, call):
    """``model_grad``: the model runs here under a tape; the loss and its gradient for
    the logits come from the grader, and the chain rule takes it to the variables."""
    import tensorflow as tf

    def model_grad(model, inputs, targets):
        with tf.GradientTape() as tape:
            scores = model(inputs)
        value, for_scores = _remote(call, name, [scores, tf.convert_to_tensor(targets)],
                                    [scores.dtype, scores.dtype])
        return value, tape.gradient(scores, model.trainable_variables, output_gradients=for_scores)
    return model_grad


def dense_layer_stand_in(name, call):
    """``MyDense``: Keras' own Dense layer, with its kernel and bias also named W and b."""
    import tensorflow as tf

    class MyDense(tf.keras.layers.Dense):
        def __init__(self, num_outputs, **kwargs):
            super().__init__(units=num_outputs, **kwargs)

        @property
        def W(self):
            return self.kernel

        @property
        def b(self):
            return self.bias
    return MyDense


STAND_INS = {"tensor": tensor_stand_in, "loss_and_gradients": loss_and_gradients_stand_in,
             "logits_loss": logits_loss_stand_in, "logits_grad": logits_grad_stand_in,
             "dense_layer": dense_layer_stand_in}


def stand_ins(exercise, call) -> dict:
    """The stand-ins of everything ``exercise`` uses, by the name the notebook defines."""
    used = [EXERCISES[name] for name in exercise.uses]
    return {u.defines: STAND_INS[u.stand_in](u.name, call) for u in used}


def channel_call(receive, send, loads=wire.loads, dumps=wire.dumps):
    """The stand-ins' ``call`` over the sandbox's channel: one request, one reply."""
    def call(name, args, cotangent=None):
        send(dumps({"op": "call", "name": name, "args": list(args), "cotangent": cotangent}))
        reply = loads(receive())
        if not isinstance(reply, dict) or "error" in reply or "value" not in reply:
            raise ReferenceRefused(str(reply.get("error", "no answer")) if isinstance(reply, dict)
                                   else "no answer")
        return reply["value"]
    return call


class BoundedOutput(io.TextIOBase):
    """A stdout/stderr replacement that keeps the first ``limit`` characters of what
    student code prints, and drops the rest."""

    def __init__(self, limit: int):
        self.limit, self.parts, self.size, self.dropped = limit, [], 0, 0

    def writable(self):
        return True

    def write(self, text):
        text = str(text)
        room = self.limit - self.size
        if room > 0:
            self.parts.append(text[:room])
            self.size += min(room, len(text))
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def take(self) -> str:
        out = "".join(self.parts) + (f"\n[... {self.dropped} characters dropped]" if self.dropped else "")
        self.parts, self.size, self.dropped = [], 0, 0
        return out


def make_shell():
    """An IPython shell to run cells with notebook semantics (magics, display)."""
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config
    config = Config()
    config.HistoryManager.enabled = False
    shell = InteractiveShell.instance(config=config)
    shell.enable_gui = lambda gui=None: None  # `%matplotlib inline` needs no GUI here
    shell.user_ns["__name__"] = "__main__"
    return shell


def run_cell(shell, cell_id: str, source: str) -> dict:
    """Run one cell; returns ``{"ok": True}`` or ``{"error": text}``."""
    try:
        code = shell.transform_cell(source)
        filename = f"<cell {cell_id}>"
        linecache.cache[filename] = (len(code), None, code.splitlines(keepends=True), filename)
        exec(compile(code, filename, "exec"), shell.user_ns)  # noqa: S102 - student code, sandboxed
        return {"ok": True}
    except BaseException as exc:  # noqa: BLE001
        return {"error": describe_error(exc)}


def serve(receive, send, output_limit: int) -> None:
    """The request loop of a sandboxed process. Requests and replies are plain data
    (``wire``); each reply carries what the student's code printed meanwhile.

    Everything the loop uses is bound here, before any student code runs, so a
    submission that rewrites this package's modules (or numpy's) changes nothing the
    loop calls. Points are decided in the grader anyway, on values it computes itself.
    """
    import sys
    import types
    exercises = {name: types.SimpleNamespace(defines=ex.defines, probe=ex.probe, uses=ex.uses)
                 for name, ex in EXERCISES.items()}
    loads, dumps, to_plain = wire.loads, wire.dumps, wire.to_plain
    run, run_one_cell, error_text = run_exercise, run_cell, describe_error
    make_stand_ins, call = stand_ins, channel_call(receive, send)
    shell = make_shell()
    out = BoundedOutput(output_limit)
    take = out.take
    sys.stdout = sys.stderr = out
    while True:
        request = loads(receive())
        op = request.get("op")
        if op == "cell":
            reply = run_one_cell(shell, request["id"], request["source"])
        elif op == "exercise":
            try:
                exercise = exercises[request["name"]]
                reply = {"outcomes": run(exercise, shell.user_ns, request["cases"],
                                         make_stand_ins(exercise, call), to_plain)}
            except BaseException as exc:  # noqa: BLE001
                reply = {"failed": error_text(exc)}
        else:
            return
        reply["output"] = take()
        send(dumps(reply))
