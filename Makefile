# Two set-up commands: `make run` and `make test`. Both create .venv and install on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint unit bench clean messages

# pip's own output goes to .venv/install.log, shown only if it fails: a machine whose pip
# configuration names missing package folders made it print 150 warnings before the
# platform's announcement (a reviewer's `make run`). The libvirt launcher builds against
# the system's libvirt when it is there (.ci/run installs it; elsewhere its contract test
# skips with a message).
INSTALL_LOG := $(VENV)/install.log
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check
$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	@echo "Installing Vigie and its libraries into $(VENV) (a minute or more the first time; details in $(INSTALL_LOG))..."
	@{ $(PIP) --upgrade pip && $(PIP) -e '.[dev]' && \
	  if pkg-config --exists libvirt 2>/dev/null; then $(PIP) -e '.[dev,libvirt]'; fi; \
	} > $(INSTALL_LOG) 2>&1 || { tail -n 40 $(INSTALL_LOG); echo "The installation failed: $(INSTALL_LOG) says why."; exit 1; }
	touch $(STAMP)

# `make run PORT=8001` where 8000 is taken. A trial on one's own machine: a centre's webhook
# may point at a receiver on it (127.0.0.1, localhost), which a platform refuses unless
# VIGIE_WEBHOOK_ALLOWED_NETWORKS names it (docs/deploy.md); set, even empty, it wins.
run: $(STAMP)
	VIGIE_WEBHOOK_ALLOWED_NETWORKS="$${VIGIE_WEBHOOK_ALLOWED_NETWORKS-127.0.0.0/8,::1}" \
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
