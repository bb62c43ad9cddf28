"""The grader side of an exercise: the check vocabulary students read (``compare``) and the
judging of a sandbox's outcomes into score and feedback (``judge``)."""
