"""The isolated process student code runs in: its settings, the process and its confinement
(``isolation``, ``cgroups``), the forkserver, the grader's client and what runs next to
student code (``harness``). This package file stays import-free: the forkserver preloads
``harness``, and must never import ``grading.reference``."""
