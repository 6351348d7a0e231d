# Two set-up commands: `make run` and `make test`. Both create .venv and install on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint unit bench clean messages

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	# The libvirt launcher builds against the system's libvirt when it is there
	# (.ci/run installs it; elsewhere its contract test skips with a message).
	if pkg-config --exists libvirt 2>/dev/null; then \
		$(BIN)/python -m pip install --quiet -e '.[dev,libvirt]'; fi
	touch $(STAMP)

# `make run PORT=8001` where 8000 is taken.
run: $(STAMP)
	$(BIN)/vigie serve $(if $(PORT),--port $(PORT))

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

# Two test processes (pytest-xdist) by default; TEST_WORKERS=0 runs them in this one.
TEST_WORKERS ?= 2
unit: $(STAMP)
	$(BIN)/pytest -q -n $(TEST_WORKERS) -m "not serial" --dist worksteal --durations=25
	$(BIN)/pytest -q -m serial

test: lint unit

# Every benchmark in full (long: minutes each); one alone: `.venv/bin/python -m benchmarks.<name>`.
# Their quick modes run in `make test` (tests/test_benchmarks_quick.py).
BENCHMARKS = $(sort $(basename $(notdir $(wildcard benchmarks/bench_*.py))))
bench: $(STAMP)
	set -e; for name in $(BENCHMARKS); do $(BIN)/python -m benchmarks.$$name; done

# Translators: every message of the UI, extracted as Babel finds it (babel.cfg).
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k p_:1c,2 -o messages.pot .

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
