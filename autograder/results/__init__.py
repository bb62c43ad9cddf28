"""What grading leaves on disk and shows: result files, feedback, grades.csv, the final grade's
adjustments, escaping and templates; ``exports`` for other systems and ``html`` for pages."""
