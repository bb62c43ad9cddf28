"""One explanation per mistake: an exercise's feedback with repeated failures folded.

The grader judges every case on its own, so one mistake (a sign in an update rule, a
sum for a mean) fails the same checks in every case: 24 lines for ``train``, 7 for
``loss``, each telling the same story with other numbers. A student learns from the
first one; the rest only say that the mistake is not about one input.

:func:`fold` keeps the exercise's feedback text (``judge.render_feedback``) as the
record and groups its failures by case: cases whose failing checks are the same
(the same labels once the case is taken out of them) and that bring no hint of their
own fail *the same way*. A group is shown as its first case in full, then "N more cases
fail the same way"; the HTML page lists those cases folded, the text formats only
count them. A failure whose label names no case is a group of its own.

Everything here works on the stored text, so results graded by any earlier kit fold
the same way.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

# The case part of a check's label, as the exercises' input factories write it
# (``inputs.blob_case``, ``inputs.layer_case``, ``variants.variant``).
CASE = re.compile(r"(?:MyDense\(\d+\) on )?inputs of shape \(\d+, \d+\)"
                  r"(?:, one example repeated)?(?:, with (?:another|other) [A-Za-z_ ]*[A-Za-z_])?")


@dataclass
class Entry:
    """One line of an exercise's feedback: a failed (``fail``) or passed (``pass``)
    check with its continuation lines, or a ``note`` (a reason, a time-out)."""

    kind: str
    text: str
    hints: list = field(default_factory=list)

    @property
    def case(self) -> str:
        """The case this check was run on ('' when its label names none)."""
        found = CASE.search(self.label)
        return found.group() if found else ""

    @property
    def label(self) -> str:
        first = self.text.split("\n", 1)[0]
        return first.split(": ", 1)[0]

    @property
    def what(self) -> str:
        """The check's label with its case taken out: what failed, whatever the input."""
        return CASE.sub("…", self.label) if self.case else self.label


@dataclass
class Group:
    """A mistake: the failures of its first case, and the other cases that failed the
    same way (each with its own failures, for a page that lists them folded)."""

    first: list
    more: list = field(default_factory=list)  # [(case, [Entry, ...]), ...]


def parse(text: str) -> tuple:
    """An exercise's feedback text as its head line (``"loss: 0 / 10"``) and its entries."""
    lines = text.splitlines()
    head, entries = (lines[0] if lines else ""), []
    for line in lines[1:]:
        stripped = line.strip()
        if stripped.startswith(("✗ ", "✓ ")):
            entries.append(Entry("fail" if stripped[0] == "✗" else "pass", stripped[2:]))
        elif stripped.startswith("Hint:") and entries:
            entries[-1].hints.append(stripped[5:].strip())
        elif entries and entries[-1].kind != "note" and stripped:
            entries[-1].text += "\n" + stripped
        elif stripped:
            entries.append(Entry("note", stripped))
    return head, entries


def fold(entries: list) -> list:
    """``entries`` as a list of ``Entry`` (notes and passes, as they are) and ``Group``
    (failures), in the order each first appears."""
    out, cases, groups = [], {}, {}
    for entry in entries:
        if entry.kind != "fail" or not entry.case:
            out.append(Group([entry]) if entry.kind == "fail" else entry)
            continue
        cases.setdefault(entry.case, []).append(entry)
        if len(cases[entry.case]) == 1:
            out.append(entry.case)  # a place holder, filled once every case is read
    for position, item in enumerate(out):
        if not isinstance(item, str):
            continue
        failed = cases[item]
        key = tuple(e.what for e in failed)
        group = groups.get(key)
        new_hints = {h for e in failed for h in e.hints}
        if group is not None and new_hints <= {h for e in group.first for h in e.hints}:
            group.more.append((item, failed))
            continue
        groups[key] = Group(failed)
        out[position] = groups[key]
    return [item for item in out if not isinstance(item, str)]


def same_way(count: int) -> str:
    """The line that stands for ``count`` folded cases."""
    return f"{count} more case{'s' * (count != 1)} fail{'s' * (count == 1)} the same way"


def text(head: str, items: list) -> str:
    """The folded feedback as text, in the format of ``judge.render_feedback`` (which
    ``parse`` reads back): each group's first case in full, then one line for the rest."""
    lines = [head]
    for item in items:
        if isinstance(item, Entry):
            lines.append(_entry_lines(item))
            continue
        lines += [_entry_lines(entry) for entry in item.first]
        if item.more:
            lines.append(f"  … {same_way(len(item.more))}.")
    return "\n".join(lines)


def _entry_lines(entry: Entry) -> str:
    mark = {"fail": "✗ ", "pass": "✓ "}.get(entry.kind, "")
    body = "\n".join(f"  {mark if i == 0 else '    '}{line}"
                     for i, line in enumerate(entry.text.split("\n")))
    return body + "".join(f"\n    Hint: {hint}" for hint in entry.hints)
