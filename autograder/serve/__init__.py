"""``tfgrade serve``: grade every submission as it arrives, and hand the feedback back.

A long-running process for one course keeps the sandbox's forkserver and the course's
reference warm, watches nbgrader's exchange (and/or a plain folder) for complete
submissions, and grades each one within seconds of its arrival. The parts, one job each:

- ``queue``: the persistent queue (SQLite). Every submission is recorded by its content
  hash, once; a crash, ``kill -9`` or reboot loses none and records none twice.
- ``watch``: finds complete submissions (notebook, ``timestamp.txt`` and, in nbgrader's
  exchange, ``submission_secret.txt``, unchanged for a settle time) with watchfiles, and
  a periodic rescan as a fallback.
- ``exchange``: nbgrader's exchange as nbgrader itself lays it out: where submissions
  come in, and the name ``nbgrader fetch_feedback`` looks for a submission's feedback
  under (nbgrader's own ``notebook_hash``).
- ``record``: what a graded submission leaves behind: the course's ``submitted/``, the
  gradebook and ``autograded/`` (nbgrader's own pipeline, as ``tfgrade autograde``), the
  round's result and feedback with its overrides, extensions and late policy, and the
  feedback page in the exchange.
- ``service``: the loop that ties them together: grading threads (or a Dask cluster), the
  per-student limit, retries of grader errors with backoff.
- ``status``: the instructor's page (Tornado), behind a token or JupyterHub.
- ``command``: the ``tfgrade serve`` command line.
"""
