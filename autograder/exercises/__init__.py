"""The assignment's exercises, one module each, registered here in notebook order.

Each module (named after its exercise's grade id) declares one :class:`Exercise`: the
contract (name, signature, points, uses, time limit), the hints, how its cases are
drawn, its probe, what the reference side computes and how the answer is judged. The
notebooks' hidden tests, the sandboxed grader, the self-tests and the reports all read
:data:`EXERCISES`. Importing this package does not import TensorFlow (``lazy``).

Adding an exercise: write its solution, visible check and test cells in the source
notebook, then add its module here and to :data:`MODULES` (docs/maintainers.md).
"""
from __future__ import annotations

import zlib

import numpy as np

from autograder.exercises import (accuracy, grad, loss, model_grad, model_loss, my_dense, my_model,
                                  predict, train, train_minibatch, train_with_optimizer)
from autograder.exercises.exercise import Exercise
from autograder.exercises.support import hints, variants
from autograder.exercises.support.hints import COMMON_ERROR_HINTS, HINT_NOT_DONE

__all__ = ["EXERCISES", "TOTAL_POINTS", "HINTS", "Exercise", "cases_for", "COMMON_ERROR_HINTS",
           "HINT_NOT_DONE"]

MODULES = (predict, loss, accuracy, grad, train, my_dense, my_model, model_loss, model_grad,
           train_with_optimizer, train_minibatch)

EXERCISES: dict[str, Exercise] = {module.EXERCISE.name: module.EXERCISE for module in MODULES}
TOTAL_POINTS = sum(exercise.points for exercise in EXERCISES.values())

# Every hint by its constant's name (the corpus names the hint a mistake must produce).
HINTS: dict[str, str] = {name: value for module in (hints, variants, *MODULES)
                         for name, value in vars(module).items() if name.startswith("HINT_")}


def cases_for(exercise: Exercise, seed: int) -> list:
    """The inputs of one exercise for one seed. They depend on the seed and the
    exercise's name only, so adding or reordering exercises changes no other
    exercise's inputs."""
    return exercise.cases(np.random.default_rng([int(seed), zlib.crc32(exercise.name.encode())]))
