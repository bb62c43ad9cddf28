"""pytest as a grading engine, opt-in: ``pytest -p autograder.integrations.pytest.plugin``."""
