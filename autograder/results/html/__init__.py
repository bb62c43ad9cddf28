"""The HTML pages: a student's feedback page, the class report, and their figures."""
