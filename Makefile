# tfkit: the two commands an instructor needs are `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
# nbgrader shells out to `alembic` by name, so the environment's bin/ must come first on PATH.
RUN    := PATH="$(abspath $(BIN)):$$PATH" TF_CPP_MIN_LOG_LEVEL=3 PYTHONWARNINGS=ignore

.PHONY: env release demo test test-fast bench bench-isolation bench-serve clean

env: $(BIN)/.installed

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (tfkit)" >/dev/null
	touch $@

## Regenerate release/ and solutions/ from source/ (commit both afterwards).
release: env
	$(RUN) $(BIN)/python -m autograder.authoring.build

## Grade the bundled sample class with nbgrader and with tfgrade in demo_out/ (a course of its
## own: the course's submitted/, autograded/, feedback/ and gradebook.db are never touched).
demo: env
	$(RUN) $(BIN)/python -m autograder.authoring.demo

## The kit's own test suite (creates the environment if needed), in TEST_PROCESSES
## processes (pytest-xdist; a module's tests stay in one process, which shares its
## fixtures; the longest modules start first: tests/conftest.py, LONGEST_FIRST). Three
## processes measured no faster than two on 2 cores: the suite keeps them busy.
TEST_PROCESSES ?= 2
PYTEST := $(RUN) $(BIN)/python -m pytest -q -rs -n $(TEST_PROCESSES) --dist loadfile --no-loadscope-reorder
test: env
	$(PYTEST) --durations=15

test-fast: env
	$(PYTEST) -m "not slow"

## Throughput against `nbgrader autograde` on the same submissions.
bench: env
	$(RUN) $(BIN)/python benchmarks/throughput.py

## What the sandbox's isolation costs per start and per submission (run as root).
bench-isolation: env
	$(RUN) $(BIN)/python benchmarks/isolation.py

## tfgrade serve: submit to feedback available, for a burst of 50 and 50 at random intervals,
## and the service's memory over 500 submissions (benchmarks/serve.py; about 15 minutes).
bench-serve: env
	$(BIN)/python -m pip install --quiet -e ".[serve]"
	$(RUN) $(BIN)/python benchmarks/serve.py --burst 50 --spaced 50 --memory 500 --json benchmarks/out/serve.json

## Remove what the build and the demo made. Never a course's data (gradebook.db, submitted/,
## autograded/, feedback/, grades): those hold a term's grades.
clean:
	rm -rf $(VENV) demo_out build dist .pytest_cache benchmarks/out *.egg-info
	for d in autograder tests benchmarks examples; do \
	    if [ -d $$d ]; then find $$d -name __pycache__ -type d -prune -exec rm -rf {} +; fi; done
