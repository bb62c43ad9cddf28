"""Grading submissions: one (``grade``), a class (``batch``, ``cluster``), the trusted
reference process (``reference``), trusted code in process (``local``) and finding
submissions (``submissions``)."""
