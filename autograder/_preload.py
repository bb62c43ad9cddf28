"""Imported once by the sandbox's forkserver: TensorFlow, IPython and the sandbox
side of this package (never ``reference``), with TensorFlow's import-time chatter on
stderr sent to /dev/null so that it does not land in the instructor's console."""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
_saved = os.dup(2)
_null = os.open(os.devnull, os.O_WRONLY)
os.dup2(_null, 2)
try:
    import tensorflow  # noqa: F401
    import IPython.core.interactiveshell  # noqa: F401
    from autograder import sandbox  # noqa: F401
finally:
    os.dup2(_saved, 2)
    os.close(_null)
    os.close(_saved)
