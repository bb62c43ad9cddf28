"""Independence: one case called again with one argument changed at a time.

A function that ignores an argument, or remembers its first answer for each input
shape, passes any set of cases that all differ in shape. So a case may carry
``variants``: for some of its arguments another value of the same shape. The probe
calls the student's function on the case and on each variant, in an order drawn from
the seed (``order``), so that a memoising answer cannot predict which call comes
first; every call is judged like a case of its own, and each variant adds one
observation: when the reference's result changes with the argument, the student's
must change too. If it does not, the observation names the argument that seems to be
ignored (``HINT_IGNORED_<ARGUMENT>``), which outranks a hint at the level of the idea
(:func:`idea`), since a repeated answer is not a wrong idea (``judge._one_explanation``).

The wrappers here turn an exercise's one-call ``probe``/``expect``/``judge``/``plots``
into ones that handle the variants; the schema of the answer (``replies``) uses
:func:`fields`. A variant's answer fields are named ``<field>@<argument>``.
"""
from __future__ import annotations

from autograder.checking.compare import Check, close, show

_IGNORED = ("The result did not change when only `{arg}` changed: the function seems to ignore "
                "its `{arg}` argument (or to reuse an earlier answer). Compute the result from the "
                "arguments of each call.")
IDEAS: set = set()  # hints at the level of the idea, given when no known mistake matches


def idea(text: str) -> str:
    """Register a hint given to a wrong value that matches no known mistake: a variant
    that merely repeats an earlier answer is better explained by the ignored argument."""
    IDEAS.add(text)
    return text


ARGUMENTS = ("W", "b", "inputs", "targets", "rate", "steps", "batch_size", "epochs", "seed")
# One hint per argument, by name (the corpus names the hint a mistake must produce).
globals().update({f"HINT_IGNORED_{arg.upper()}": _IGNORED.format(arg=arg) for arg in ARGUMENTS})
IGNORED = {_IGNORED.format(arg=arg) for arg in ARGUMENTS}
# The words for "another <argument>" in a label.
_ANOTHER = {"inputs": "other inputs", "targets": "other targets", "steps": "another number of steps",
            "rate": "another rate", "epochs": "another number of epochs",
            "batch_size": "another batch size", "seed": "another seed"}


def vary(rng, case: dict, changes: dict) -> dict:
    """``case`` with ``variants`` (argument -> another value) and the order of the calls,
    drawn from ``rng``."""
    order = ["", *changes]
    order = [order[i] for i in rng.permutation(len(order))]
    return {**case, "variants": dict(changes), "order": order}


def variant(case: dict, arg: str) -> dict:
    """The case as one call sees it: the base case (``arg == ""``) or with ``arg`` changed."""
    base = {k: v for k, v in case.items() if k not in ("variants", "order")}
    if not arg:
        return base
    changed = {**base, arg: case["variants"][arg]}
    changed["label"] = f"{base['label']}, with {_ANOTHER.get(arg, 'another ' + arg)}"
    return changed


def redrawn(draw, keep, tries: int = 200) -> list:
    """``draw()`` (a list of cases, each drawn from the same generator) until ``keep``
    holds for every call the probe will make, base case and variants alike. Redrawing
    advances the generator, so the cases stay a function of the seed."""
    for _ in range(tries):
        drawn = draw()
        if all(keep(variant(case, arg)) for case in drawn for arg in case.get("order", [""])):
            return drawn
    raise RuntimeError(f"no draw in {tries} kept {keep.__name__}: the case generator needs a look")


def fields(schema):
    """The answer's schema with every variant's fields (``replies.SCHEMAS``)."""
    def of(case):
        found = dict(schema(variant(case, "")))
        for arg in case.get("variants", {}):
            found.update({f"{key}@{arg}": kind for key, kind in schema(variant(case, arg)).items()})
        return found
    return of


def probing(probe_one):
    def probe(namespace, case):
        found = {}
        for arg in case.get("order", [""]):
            found[arg] = probe_one(namespace, variant(case, arg))
        answer = dict(found.pop(""))
        for arg, one in found.items():
            answer.update({f"{key}@{arg}": value for key, value in one.items()})
        return answer
    return probe


def expecting(expect_one):
    def expect(reference, case):
        want = expect_one(reference, variant(case, ""))
        if not case.get("variants"):
            return want
        return {"base": want, "variants": {arg: expect_one(reference, variant(case, arg))
                                           for arg in case["variants"]}}
    return expect


def split(case, answer, want, arg=""):
    """(case, answer, expected) of one call."""
    if not case.get("variants"):
        return case, answer, want
    suffix = f"@{arg}" if arg else ""
    one = {key[: len(key) - len(suffix)] if suffix else key: value for key, value in answer.items()
           if (key.endswith(suffix) if suffix else "@" not in key)}
    return variant(case, arg), one, (want["variants"][arg] if arg else want["base"])


def judging(judge_one, outputs):
    """``outputs(answer, expected)`` lists the (student's, reference's) values that must
    change with an argument that matters."""
    def judge(case, answer, want):
        base = split(case, answer, want)
        observations = list(judge_one(*base))
        explained = any(not c.passed and c.hint and c.hint not in IDEAS for c in observations)
        ignored, stale = [], []
        for arg in case.get("variants", {}):
            one = split(case, answer, want, arg)
            found = list(judge_one(*one))
            ignored.append(independent(arg, base, one, outputs))
            stale += found
            observations += found + [ignored[-1]]
        if not explained and any(c.hint for c in ignored):
            # A stale answer: any resemblance of the repeated answer to a known mistake for
            # the other arguments is chance. Which of the remaining hints is given (a known
            # mistake, an ignored argument, an idea) is judge._one_explanation's rule.
            for check in stale:
                check.hint = ""
        return observations
    return judge


def independent(arg, base, one, outputs) -> Check:
    """The student's result changes with ``arg`` wherever the reference's does."""
    pairs = list(zip(outputs(base[1], base[2]), outputs(one[1], one[2])))
    unchanged = all(close(mine[0], theirs[0], rtol=1e-6, atol=1e-7) for mine, theirs in pairs)
    should_change = any(not close(mine[1], theirs[1], rtol=1e-3, atol=1e-5) for mine, theirs in pairs)
    ok = not (unchanged and should_change)
    label = f"the result changes with `{arg}` ({base[0]['label']})"
    # Weight 0: an answer that ignores an argument already fails the variant's own value
    # checks (the reference's result changed, the answer did not), so it loses that
    # call's points once; this observation names the argument.
    return Check(label, ok, "" if ok else f"it returned {show(pairs[0][0][0])} for both values of `{arg}`",
                 "" if ok else _IGNORED.format(arg=arg), 0.0)


def plotting(plots_one):
    if plots_one is None:
        return None

    def plots(case, answer, want):
        return plots_one(*split(case, answer, want))
    return plots
