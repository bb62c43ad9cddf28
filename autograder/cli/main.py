"""``tfgrade``, the instructor's and the student's command line: parse (``parsers``), then
run the subcommand's module; a :class:`~autograder.cli.common.UsageError` becomes one line
on stderr and the exit code ``EXIT_USAGE``."""
from __future__ import annotations

import os
import sys

# Before anything may import TensorFlow: its C++ start-up lines ignore the Python log level.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Before anything may import nbformat: its validator imports jsonschema, which imports
# rfc3987_syntax when it is installed (jupyter's dependencies install it) for its "iri"
# format check, and that builds 38 parsers at import, about a core-second per command.
# A notebook's schema checks no format, and jsonschema skips a format it has no checker for.
sys.modules.setdefault("rfc3987_syntax", None)

from autograder.cli.common import EXIT_USAGE, UsageError  # noqa: E402
from autograder.cli.parsers import parser  # noqa: E402


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except UsageError as exc:
        print(f"tfgrade {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
