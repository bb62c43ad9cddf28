"""No stand-in works as an oracle for a later exercise (issue 22, item 3).

The attack: while ``train`` is graded, the notebook recomputes its own case seed (the
course seed is the default one, the cells' sources are in the sandbox's ``linecache``,
and the derivation is public), draws the inputs of ``model_loss`` and ``model_grad``
with the kit's own case generator, and asks the ``grad`` stand-in for their answers;
``model_loss`` and ``model_grad`` then answer by lookup, implementing nothing. The case
seed is a keyed hash with a key the sandbox never sees, so the drawn inputs are not the
graded ones and the lookup exercises earn nothing; every other exercise keeps its points.
With the unkeyed derivation in place of the keyed one, the same notebook earns both
exercises' points (the attack works, so the test can fail).
"""
from __future__ import annotations

import pytest

from autograder.exercises import EXERCISES, TOTAL_POINTS
from autograder.grading import grade
from conftest import with_cell, write_student


STEAL = '''
import hashlib as _hashlib, json as _json, linecache as _linecache
_ORACLE = {}


def _key(W, b, inputs, targets):
    parts = [np.asarray(v, dtype=np.float32).ravel().tobytes() for v in (W, b, inputs, targets)]
    return _hashlib.sha256(b"|".join(parts)).hexdigest()


def _steal():
    """Draw the later exercises' inputs from the recomputed case seed; ask `grad`."""
    from autograder.exercises import EXERCISES as _EX, cases_for as _cases
    from autograder.exercises.support.variants import variant as _variant
    sources = ["".join(entry[2]).removesuffix("\\n") for name, entry in list(_linecache.cache.items())
               if name.startswith("<cell ")]
    digest = _hashlib.sha256(b"tfkit case seed 1\\x0020211\\x00")
    digest.update(_json.dumps(sources).encode())
    seed = int.from_bytes(digest.digest()[:4], "big")
    for name in ("model_loss", "model_grad"):
        for case in _cases(_EX[name], seed):
            for arg in case.get("order", [""]):
                one = _variant(case, arg)
                W, b = tf.constant(one["W"]), tf.constant(one["b"])
                value, (dW, db) = grad(W, b, tf.constant(one["inputs"]), tf.constant(one["targets"]))
                _ORACLE[_key(one["W"], one["b"], one["inputs"], one["targets"])] = (
                    float(value), np.asarray(dW), np.reshape(np.asarray(db), (1,)))
'''

TRAIN = '''
def train(W, b, inputs, targets, rate, steps):
    if not _ORACLE:
        _steal()
    losses = []
    for _ in range(steps):
        loss_value, (dW, db) = grad(W, b, inputs, targets)
        losses.append(float(loss_value))
        W = W - rate * dW
        b = b - rate * db
    return W, b, losses
'''

LOOKUP = '''
def _looked_up(model, inputs, targets):
    kernel, bias = [np.asarray(v) for v in model.trainable_variables]
    return _ORACLE.get(_key(kernel, bias[0], inputs, targets),
                       (0.0, np.zeros_like(kernel), np.zeros_like(bias)))


def model_loss(model, inputs, targets):
    return tf.constant(_looked_up(model, inputs, targets)[0])
'''

LOOKUP_GRAD = '''
def model_grad(model, inputs, targets):
    value, dW, db = _looked_up(model, inputs, targets)
    return tf.constant(value), [tf.constant(dW), tf.constant(db)]
'''


def attack(full_marks):
    notebook = with_cell(full_marks, (STEAL + TRAIN).strip(), replace="train")
    notebook = with_cell(notebook, LOOKUP.strip(), replace="model_loss")
    return with_cell(notebook, LOOKUP_GRAD.strip(), replace="model_grad")


def unkeyed(seed, cells, key=None):
    """The derivation before the key: public code, so a notebook can recompute it."""
    import hashlib
    import json
    digest = hashlib.sha256(f"tfkit case seed 1\0{int(seed)}\0".encode())
    digest.update(json.dumps([str(source) for _label, source in cells]).encode())
    return int.from_bytes(digest.digest()[:4], "big")


def test_the_attack_recomputes_the_unkeyed_seed_and_not_the_keyed_one():
    """Fast: the notebook's recomputation (in STEAL) is the unkeyed derivation, and the
    keyed one differs from it; the slow test below shows what each lets the attack do."""
    import hashlib
    import json
    cells = [("cell 1", "import numpy as np"), ("cell 2", "x = 1\n")]
    digest = hashlib.sha256(b"tfkit case seed 1\x0020211\x00")
    digest.update(json.dumps([source for _label, source in cells]).encode())
    recomputed = int.from_bytes(digest.digest()[:4], "big")
    assert 'hashlib.sha256(b"tfkit case seed 1\\x0020211\\x00")' in STEAL
    assert unkeyed(20211, cells) == recomputed
    assert grade.derive_case_seed(20211, cells) != recomputed
    assert grade.derive_case_seed(20211, cells) == grade.derive_case_seed(20211, list(cells))


@pytest.mark.slow
@pytest.mark.parametrize("keyed", [True, False], ids=["keyed case seed", "unkeyed (protection off)"])
def test_a_stand_in_cannot_answer_later_exercises(keyed, full_marks, tmp_path, monkeypatch):
    if not keyed:
        monkeypatch.setattr(grade, "derive_case_seed", unkeyed)
    path = write_student(tmp_path, "thief", attack(full_marks))
    result = grade.grade_submission(path, "thief", 20211).to_dict()
    scores = {name: ex["score"] for name, ex in result["exercises"].items()}
    stolen = EXERCISES["model_loss"].points + EXERCISES["model_grad"].points
    honest = {n: e.points for n, e in EXERCISES.items() if n not in ("model_loss", "model_grad")}
    assert {n: scores[n] for n in honest} == honest, result["reason"]
    # where the time went, per exercise (result.json's seconds: student, reference, ahead, grader)
    spent = {n: ex["seconds"] for n, ex in result["exercises"].items()}
    assert all(set(s) == {"student", "reference", "ahead", "grader"} and min(s.values()) >= 0
               for s in spent.values())
    # train's stand-ins are answered while it runs; its expected values were computed ahead
    assert spent["train"]["student"] > 0 and spent["train"]["reference"] > 0
    assert spent["train"]["ahead"] > 0
    if keyed:
        assert scores["model_loss"] == scores["model_grad"] == 0
        assert result["score"] == TOTAL_POINTS - stolen
    else:
        assert scores["model_loss"] + scores["model_grad"] == stolen
