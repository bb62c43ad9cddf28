"""The mutant and alternative corpus, graded in-process by ``autograder.grading.local.grade``.

Each snippet replaces one exercise's solution cell in a namespace that otherwise holds
the reference definitions (``corpus.namespace_with``). A mutant must lose points on its
exercise, its feedback must give every hint its header names and no other hint; an
alternative must keep full points. Every snippet is graded at the kit's seed and at
``corpus.SECOND_SEED``.
"""
from __future__ import annotations

import pytest

from autograder.authoring import corpus
from autograder.exercises import EXERCISES, HINTS
from autograder.grading import local
from conftest import ROOT

MUTANTS = corpus.mutants(ROOT)
ALTERNATIVES = corpus.alternatives(ROOT)
HINT_NAMES = set(HINTS)


# The kit's seed runs in `make test-fast`; the second seed only in the whole suite.
SEEDS = [corpus.seeds()[0], pytest.param(corpus.seeds()[1], marks=pytest.mark.slow)]


def graded(snippet, reference_cells, local_reference, seed):
    """The graded ``ExerciseResult`` of one snippet."""
    namespace = corpus.namespace_with(snippet.exercise, snippet.source, reference_cells)
    return local.grade(snippet.exercise, namespace, local_reference, seed)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("snippet", MUTANTS, ids=[s.id for s in MUTANTS])
def test_mutant_loses_points_with_its_hints_only(snippet, seed, reference_cells, local_reference):
    result = graded(snippet, reference_cells, local_reference, seed)
    score, feedback = result.score, result.feedback
    points = EXERCISES[snippet.exercise].points
    assert score < points, f"{snippet.id} ({snippet.description}) kept full marks:\n{feedback}"
    missing, others = corpus.wrong_hints(snippet, corpus.hints_given(result))
    assert not missing, f"{snippet.id} ({snippet.description}): no {missing} in\n{feedback}"
    assert not others, f"{snippet.id} ({snippet.description}): other hints {others} in\n{feedback}"
    defines = EXERCISES[snippet.exercise].defines
    if defines not in corpus.namespace_with(snippet.exercise, snippet.source, reference_cells):
        assert f"`{defines}` is not defined" in feedback, feedback


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("snippet", ALTERNATIVES, ids=[s.id for s in ALTERNATIVES])
def test_alternative_keeps_full_points(snippet, seed, reference_cells, local_reference):
    result = graded(snippet, reference_cells, local_reference, seed)
    assert result.score == EXERCISES[snippet.exercise].points, (
        f"{snippet.id} ({snippet.description}) is correct but lost points:\n{result.feedback}")


def test_every_exercise_is_covered():
    for name in EXERCISES:
        n_mutants = sum(s.exercise == name for s in MUTANTS)
        n_alternatives = sum(s.exercise == name for s in ALTERNATIVES)
        assert n_mutants >= 5, f"{name}: {n_mutants} mutants, want at least 5"
        assert n_alternatives >= 3, f"{name}: {n_alternatives} alternatives, want at least 3"
    folders = {s.exercise for s in MUTANTS + ALTERNATIVES}
    assert folders <= set(EXERCISES), f"folders that name no exercise: {folders - set(EXERCISES)}"


def test_hints_name_existing_constants():
    unknown = {s.id: name for s in MUTANTS for name in s.hint_constants if name not in HINT_NAMES}
    assert not unknown, f"`# hint:` names no HINT_* constant of autograder.exercises: {unknown}"


def test_a_missing_name_is_in_the_corpus(reference_cells):
    missing = [s for s in MUTANTS if EXERCISES[s.exercise].defines
               not in corpus.namespace_with(s.exercise, s.source, reference_cells)]
    assert missing, "the corpus should hold a mutant that defines the wrong name"
    assert all(s.hint_constant is None for s in missing)


def test_replace_solution_changes_one_cell_only(release):
    source = corpus.snippet("mutant", "predict/column").body
    changed = corpus.replace_solution(release, "predict", source)
    assert changed is not release
    before, after = release.cells, changed.cells
    assert len(before) == len(after)
    differing = [i for i, (a, b) in enumerate(zip(before, after)) if a != b]
    assert len(differing) == 1
    cell = after[differing[0]]
    assert cell.metadata == before[differing[0]].metadata
    assert cell.metadata.nbgrader.grade_id == "predict" and cell.source == source
    assert "raise NotImplementedError" in before[differing[0]].source  # the input is untouched
    with pytest.raises(KeyError):
        corpus.replace_solution(release, "no_such_exercise", "pass")
