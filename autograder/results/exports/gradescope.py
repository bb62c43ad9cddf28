"""Gradescope's results.json for one submission."""
from __future__ import annotations

from autograder.exercises import EXERCISES, TOTAL_POINTS
from autograder.results import adjust, breakdown, escape, folding
from autograder.results.feedback import advice, one_line, score_line, section, student_text
from autograder.results.records import number


GRADESCOPE_FILE = "results.json"


def results_json(result: dict, final: adjust.Final | None = None, mode: str = "full",
                 visibility: str = "visible") -> dict:
    """Gradescope's results.json for one submission. Outputs are Markdown
    (``output_format: md``): each exercise's feedback folded (``folding``) in a fence,
    with its final score; the top-level output gives the reason, then the automatic
    score, each change and the final score on lines of their own (``breakdown``), student
    text escaped, never a run of spaces. ``visibility`` applies to every test and to
    the whole result (Gradescope: ``visible``, ``after_due_date``, ``after_published``
    or ``hidden``); what the grader printed is never shown to students
    (``stdout_visibility: hidden``)."""
    final = final or adjust.final_grade(result, [], adjust.Settings())
    tests = []
    for name, ex in result["exercises"].items():
        if name not in EXERCISES:
            continue
        score = final.exercises.get(name, ex["score"])
        head = score_line(name, ex, final, ex["max_score"])
        _, _, items, _ = section(name, str(ex["feedback"]), head, mode, None)
        tests.append({"name": f"{name} ({EXERCISES[name].signature})", "score": score,
                      "max_score": ex["max_score"],
                      "output": escape.fence(student_text(folding.text(head, items), "full")),
                      "output_format": "md", "visibility": visibility,
                      "status": "passed" if score >= ex["max_score"] else "failed"})
    output = (escape.markdown(one_line(result["reason"])) if result["reason"]
              else f"Graded with seed {result['seed']}.")
    if breakdown.adjusted(final):
        lines = [f"Automatic score: {final.auto_total:g}"]
        lines += [escape.markdown(step.text) for step in breakdown.steps(final, result)]
        lines.append(f"Final score: {final.total:g} / {number(result.get('max_score')) or TOTAL_POINTS:g}")
        output += "\n\n" + "\n".join(f"- {line}" for line in lines)
    if result.get("status") == "ungradable":
        output += f"\n\n**What to do:** {advice(result['reason'])}"  # the kit's own words
    return {"score": final.total, "execution_time": result.get("seconds", 0), "output": output,
            "output_format": "md", "test_output_format": "md",
            "visibility": visibility, "stdout_visibility": "hidden", "tests": tests}
