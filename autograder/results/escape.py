"""Student text made safe for where it is shown: terminal, Markdown, CSV.

Anything a submission controls (a file name, an exception's message, a returned string,
what its code printed) can reach the instructor's console, the student's feedback and
the grade sheet. Each sink gets one function here, and every writer uses it:

- :func:`terminal`: control and format characters (ANSI escapes, ``\\r``, bidi
  overrides, terminal-title sequences) are shown as visible escapes (``\\x1b``), never
  interpreted;
- :func:`markdown` for running text, :func:`fence` for a block: Markdown and raw HTML
  in student text stay literal;
- :func:`csv_cell`: a cell a spreadsheet would run as a formula gets a leading ``'``.

Gradescope's output is Markdown, so it uses the Markdown functions. HTML output, when
it comes, must go through a Jinja2 environment with autoescaping (see ``templating``).
"""
from __future__ import annotations

import logging
import re
import unicodedata

_INVISIBLE = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
# Markdown's meaningful punctuation, by how it is neutralised (see ``markdown``): a
# backslash before a backslash that precedes punctuation, ``* ` [ ]``; an underscore
# not between two letters or digits; an entity for ``< & $ ~ |`` (Python-Markdown
# honours no backslash before them) and for what GitHub's flavour links; a backslash
# after the digits or before the marker that could start a block (``# > - + 1. 1)``).
_MD_ESCAPED = re.compile(r"(\\(?=[!-/:-@\[-`{-~]|$)|[*`\[\]])")
_MD_UNDERSCORE = re.compile(r"(?<![^\W_])_|_(?![^\W_])")
_MD_ENTITIES = re.compile(r"[<&$~|]|(?<=\w):(?=//)|(?<=www)\.", re.I)
_ENTITY = {"<": "&lt;", "&": "&amp;", "$": "&#36;", "~": "&#126;", "|": "&#124;", ":": "&#58;",
           ".": "&#46;"}
_MD_BLOCK_START = re.compile(r"^(\d*)([#>\-+.)])")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MAX_ID_CHARS = 56  # with a "~N" suffix, at most 240 bytes of UTF-8: a valid file name


def invisible(char: str) -> bool:
    """A control, format, separator-of-lines, surrogate, private or unassigned character:
    one that a terminal may interpret or that does not show as itself."""
    return unicodedata.category(char) in _INVISIBLE


def _shown(char: str) -> str:
    code = ord(char)
    if code < 0x100:
        return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(char, f"\\x{code:02x}")
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def visible(text, keep: str = "") -> str:
    """``text`` with every control, format, surrogate or unassigned character written as
    a visible escape (``\\x1b``, ``\\u202e``), except those in ``keep``."""
    text = str(text)
    return "".join(c if c in keep or not invisible(c) else _shown(c) for c in text)


def terminal(text, keep_newlines: bool = False) -> str:
    """Text for a console line (or, with ``keep_newlines``, a block of lines): nothing in
    it can move the cursor, recolour, retitle or rewrite what is already shown."""
    return visible(text, "\n" if keep_newlines else "")


def markdown(text) -> str:
    """Student text for Markdown running text (a heading, a list item, a quote): on one
    line, and rendered literally by CommonMark (Jupyter, GitHub, Gradescope) and by
    Python-Markdown: it opens no emphasis, code, link, image, HTML tag, entity, math,
    strikethrough, table cell, heading, list or quote. Only what could have a meaning
    is escaped, so that the source reads as plain text too: a backslash escape where
    both renderers honour one (``\\* \\_ \\` \\[ \\]``, an underscore only where it
    could open or close emphasis), an HTML entity for the rest (``< & $ ~ |``, and the
    ``:`` of ``://`` and the ``.`` of ``www.``, which GitHub's flavour turns into links),
    and the first character of a line that could start a block (leading spaces, which
    could start a code block, are dropped)."""
    text = _MD_ESCAPED.sub(r"\\\1", visible(text).lstrip(" "))
    text = _MD_UNDERSCORE.sub(r"\\_", text)
    text = _MD_ENTITIES.sub(lambda m: _ENTITY[m.group()], text)
    return _MD_BLOCK_START.sub(lambda m: m.group(1) + "\\" + m.group(2), text)


def fence(text, info: str = "") -> str:
    """A fenced code block holding ``text`` literally: the fence is longer than any run
    of backticks inside, so nothing in the text can close it."""
    body = visible(text, "\n\t")
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    marks = "`" * max(3, longest + 1)
    return f"{marks}{info}\n{body}\n{marks}"


def csv_cell(value):
    """A grade-sheet cell: in strings, control characters other than newline and tab are
    shown as escapes (a bare ``\r`` would start a new row for many readers), and a
    string a spreadsheet would evaluate (starting with ``= + - @``, a tab or a carriage
    return) gets a leading ``'``; numbers stay numbers."""
    if not isinstance(value, str):
        return value
    value = visible(value, "\n\t")
    return "'" + value if value.startswith(_FORMULA_START) else value


def safe_student_id(name: str) -> str:
    """``name`` made safe as a folder name and a grade-sheet cell: path separators and
    control, format or unassigned characters become ``_``, and so do leading dots,
    spaces and the characters a spreadsheet reads as a formula (``= + - @``); at most
    ``MAX_ID_CHARS`` characters, never empty."""
    chars = "".join("_" if c in "/\\" or invisible(c) else c for c in str(name))
    chars = re.sub(r"^[\s.=+\-@]+", lambda m: "_" * len(m.group()), chars)
    return chars[:MAX_ID_CHARS] or "_"


# --- student-facing text: what a student can act on --------------------------------------

_SERVER_PATH = re.compile(r"(?<![\w.~-])(?:/[\w.@+~-]+){2,}/?")
_LIBRARY_NOISE = [
    re.compile(r"Exception encountered when calling [\w.]+\(\)\.\s*"),
    re.compile(r"\s*(?:name:\s*)?Arguments received by [\w.]+\(\):.*?(?=\s\(in cell \d|\s*$)", re.S),
    re.compile(r"\s+name:\s*(?=\(in cell \d|$)"),
]
_EXPECTED_VALUE = re.compile(r"expected (?:a value between \S+ and \S+|numbers like .+?|-?\d[\d.]*"
                             r"(?:e[-+]?\d+)?|\[[^\]]*\]+|True|False|'[^']*'|\"[^\"]*\"), got ")


def no_server_paths(text: str) -> str:
    """``text`` with every absolute path of two or more parts cut to its last part: a
    student never learns the grader's folders."""
    return _SERVER_PATH.sub(lambda m: m.group().rstrip("/").rsplit("/", 1)[-1], str(text))


def no_library_noise(text: str) -> str:
    """``text`` without Keras's call boilerplate ("Exception encountered when calling
    X.call()", "Arguments received by X.call(): • inputs=...")."""
    for pattern in _LIBRARY_NOISE:
        text = pattern.sub("", text)
    return text


def no_expected_values(text: str) -> str:
    """``text`` without the expected values ("expected 0.72, got 28.8" becomes "got
    28.8"); shapes, types and what came back stay."""
    return _EXPECTED_VALUE.sub("got ", text)


class TerminalFormatter(logging.Formatter):
    """A logging formatter for the instructor's console: messages and tracebacks keep
    their line breaks, and everything else a submission could have put in them is
    shown as escapes."""

    def format(self, record: logging.LogRecord) -> str:
        return terminal(super().format(record), keep_newlines=True)
