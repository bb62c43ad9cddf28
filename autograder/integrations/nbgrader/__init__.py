"""nbgrader: the sandboxed grading step, fixes to two nbgrader bugs, ``tfgrade autograde``,
the gradebook's scores and what a notebook's hidden test cells call (``kernel``)."""
