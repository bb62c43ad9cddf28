"""Imported once by the sandbox's forkserver: everything a submission needs before its
first cell runs (``sandbox.PRELOAD``), quietly. Never ``reference``."""
from autograder.sandbox import PRELOAD, import_quietly

import_quietly(*PRELOAD)
