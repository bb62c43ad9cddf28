"""``python -m autograder.cli``: the ``tfgrade`` command."""
import sys

from autograder.cli.main import main

sys.exit(main())
