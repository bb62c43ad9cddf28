"""Imported once by the sandbox's forkserver: everything a submission needs before its
first cell runs (``forkserver.PRELOAD``, and the system call filter built), quietly. Never
``grading.reference``.

It also marks the forkserver's main module as the grader's main script (named by
``forkserver.MAIN_SCRIPT_VARIABLE``), so that its children do not run that script again
one by one (``forkserver._tell_forkserver_the_main_script`` says why)."""
import importlib.machinery
import os
import sys

from autograder.sandbox import isolation
from autograder.sandbox.forkserver import MAIN_SCRIPT_VARIABLE, PRELOAD, import_quietly

import_quietly(*PRELOAD)

_kind, _, _main = os.environ.pop(MAIN_SCRIPT_VARIABLE, "").partition(":")
if _kind == "path":
    sys.modules["__main__"].__file__ = _main
elif _kind == "name":
    sys.modules["__main__"].__spec__ = importlib.machinery.ModuleSpec(_main, None)

try:
    isolation.prepare_filter()
except (ImportError, OSError, RuntimeError):  # no libseccomp: each sandbox says so, and refuses
    pass
