"""The feedback in nbgrader's feedback folder, where ``nbgrader release_feedback`` finds it."""
from __future__ import annotations

import logging
from pathlib import Path

from autograder import ASSIGNMENT
from autograder.results import adjust, escape, files

log = logging.getLogger(__name__)
NBGRADER_MARK = "<!-- written by tfgrade -->"


def _literal_html():
    """mistune's HTML renderer with raw HTML escaped (``escape=True``), where an
    entity in the text (``escape.markdown`` writes ``&lt;``) still shows its character."""
    import html

    import mistune

    class Literal(mistune.HTMLRenderer):
        def text(self, text: str) -> str:
            return super().text(html.unescape(text))
    return Literal(escape=True)


def write_nbgrader_feedback(feedback_dir: Path, result: dict, markdown_text: str) -> Path | None:
    """``feedback_dir/<student>/<assignment>/<assignment>.html``, the layout
    ``nbgrader release_feedback`` hands out, with the submission's ``timestamp.txt`` and
    ``submission_secret.txt`` beside it when the submission had them. An HTML file
    that tfgrade did not write (nbgrader's own feedback) is left alone."""
    import mistune
    folder = files.student_folder(Path(feedback_dir), result["student_id"]) / ASSIGNMENT
    target = folder / f"{ASSIGNMENT}.html"
    if target.is_symlink() or (target.is_file() and NBGRADER_MARK not in
                               target.read_text(encoding="utf-8", errors="replace")[:200]):
        log.warning("not replacing %s: tfgrade did not write it", escape.terminal(str(target)))
        return None
    body = mistune.create_markdown(renderer=_literal_html(), plugins=["table"])(markdown_text)
    files.write_atomic(target, f"{NBGRADER_MARK}\n<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
                 f"<title>Feedback: {ASSIGNMENT}</title></head>\n<body>\n{body}</body></html>\n")
    source = result.get("submitted_from")
    for name in (adjust.TIMESTAMP_FILE, "submission_secret.txt"):
        origin = Path(source) / name if source else None
        if origin is not None and origin.is_file() and not origin.is_symlink():
            files.write_atomic(folder / name, origin.read_text(encoding="utf-8", errors="replace")[:1000])
    return target
