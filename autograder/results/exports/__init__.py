"""Grades and feedback in other systems' formats: Gradescope, Canvas, nbgrader's feedback folder."""
