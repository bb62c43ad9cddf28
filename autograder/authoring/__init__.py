"""Authoring the course: the release build, the self-tests and their corpus, `tfgrade check` and the demo."""
