# tfkit: the two commands an instructor needs are `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
# nbgrader shells out to `alembic` by name, so the environment's bin/ must come first on PATH.
RUN    := PATH="$(CURDIR)/$(BIN):$$PATH" TF_CPP_MIN_LOG_LEVEL=3 PYTHONWARNINGS=ignore

.PHONY: env release demo test test-fast bench bench-isolation clean

env: $(BIN)/.installed

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (tfkit)" >/dev/null
	touch $@

## Regenerate release/ and solutions/ from source/ (commit both afterwards).
release: env
	$(RUN) $(BIN)/python -m autograder.build

## Grade the bundled sample class with nbgrader and with tfgrade, then print both tables.
demo: env release
	$(RUN) $(BIN)/python -m autograder.demo

## The kit's own test suite (creates the environment if needed).
test: env
	$(RUN) $(BIN)/python -m pytest -q --durations=15

test-fast: env
	$(RUN) $(BIN)/python -m pytest -q -m "not slow"

## Throughput against `nbgrader autograde` on the same submissions.
bench: env
	$(RUN) $(BIN)/python benchmarks/throughput.py

## What the sandbox's isolation costs per start and per submission (run as root).
bench-isolation: env
	$(RUN) $(BIN)/python benchmarks/isolation.py

clean:
	rm -rf $(VENV) gradebook.db submitted autograded feedback demo_out
