"""An answer that computes nothing scores nothing.

A notebook whose every function returns zeros or constants of the right shape, type and
length (the corpus's "computes nothing" mutants, one per exercise) used to earn about 28
of 100 points from checks of form alone. A check of form now earns its weight only when
the value it describes is right too (``compare.backed``), and every graded check can
fail on wrong code; so that notebook scores 0, at the kit's seed and at the second one.
"""
from __future__ import annotations

import pytest

from autograder.authoring import corpus
from autograder.exercises import EXERCISES, TOTAL_POINTS
from autograder.grading import local
from conftest import ROOT

# One honest "computes nothing" answer per exercise (tests/mutants/<exercise>/<name>.py).
NOTHING = {"predict": "zeros", "loss": "constant", "accuracy": "constant", "grad": "zeros",
           "train": "unchanged", "my_dense": "zeros", "my_model": "zeros", "model_loss": "constant",
           "model_grad": "zeros", "train_with_optimizer": "constant", "train_minibatch": "constant"}
MOST = 0.0  # points out of TOTAL_POINTS the whole notebook may keep


def test_every_exercise_has_an_answer_that_computes_nothing():
    assert set(NOTHING) == set(EXERCISES)
    for exercise, name in NOTHING.items():
        snippet = corpus.snippet("mutant", f"{exercise}/{name}", ROOT)
        assert snippet.description.startswith("computes nothing"), snippet.id


@pytest.mark.parametrize("seed", corpus.seeds())
def test_a_notebook_that_computes_nothing_scores_nothing(seed, reference_cells, local_reference):
    scores = {}
    for exercise, name in NOTHING.items():
        snippet = corpus.snippet("mutant", f"{exercise}/{name}", ROOT)
        namespace = corpus.namespace_with(exercise, snippet.source, reference_cells)
        scores[exercise] = local.grade(exercise, namespace, local_reference, seed).score
    total = sum(scores.values())
    assert total <= MOST, (f"at seed {seed} the notebook that computes nothing scores {total:g} of "
                           f"{TOTAL_POINTS:g}: {scores}")
