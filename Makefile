# Two entry points: `make demo` and `make test`. Both create .venv and install what they need.
PYTHON ?= $(shell for p in python3 python3.13 python3.12 python3.11; do $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 && { command -v $$p; break; }; done)
VENV   ?= .venv
BIN    := $(VENV)/bin
# PyTorch for the semantic extra (in dev), installed first and pinned: an unpinned torch resolves to
# a CUDA build of several GB on Linux, while this version is a CPU build on the project's machines.
TORCH  ?= torch==2.13.0
HASH   := $(shell cat pyproject.toml | sha1sum | cut -c1-12)
STAMP  := $(VENV)/.installed-$(HASH)
# The demo installs only the core and scikit-learn (no PyTorch, PySpark or Playwright); a venv
# already set up for the tests has all of it, so its stamp counts for the demo too.
DEMO_STAMP := $(VENV)/.demo-$(HASH)

.PHONY: demo test lint typecheck unit bench clean browser

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python >= 3.11 is required"; exit 2; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -U pip
	$(BIN)/python -m pip install -q --disable-pip-version-check '$(TORCH)'
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $@

$(DEMO_STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python >= 3.11 is required"; exit 2; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@test -f $(STAMP) || { $(BIN)/python -m pip install -q --disable-pip-version-check -U pip && \
	  $(BIN)/python -m pip install -q --disable-pip-version-check -e '.[demo]'; }
	@rm -f $(VENV)/.demo-* && touch $@

demo: $(DEMO_STAMP)
	MLFLOW_DISABLE_TELEMETRY=true $(BIN)/aiready demo --dir aiready-demo

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

# Browser tests use Debian's chromium (never a browser download); installed here when missing and
# this user may (root with apt-get), otherwise those tests are skipped with the reason.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  { apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 && \
	    apt-get install -y -q chromium >/dev/null 2>&1; }; }; } || \
	  echo "chromium is not installed and cannot be: browser tests will be skipped"

# Two workers, a test file each at a time (module fixtures stay in one process): 1,600 tests in
# ~14 min instead of ~19 on the 2-core machine. `make unit PYTEST_WORKERS=` runs them in one process.
PYTEST_WORKERS ?= -n 2 --dist loadfile

unit: $(STAMP) browser
	MLFLOW_DISABLE_TELEMETRY=true $(BIN)/pytest $(PYTEST_WORKERS) --durations=15

test: lint typecheck unit

bench: $(STAMP)
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[dev,bench]'
	MLFLOW_DISABLE_TELEMETRY=true $(BIN)/python benchmarks/gates.py
	MLFLOW_DISABLE_TELEMETRY=true $(BIN)/python benchmarks/publish.py
	MLFLOW_DISABLE_TELEMETRY=true $(BIN)/python benchmarks/policy.py
	MLFLOW_DISABLE_TELEMETRY=true $(BIN)/python benchmarks/retrieval.py
	MLFLOW_DISABLE_TELEMETRY=true $(BIN)/python benchmarks/drift.py
	MLFLOW_DISABLE_TELEMETRY=true $(BIN)/python benchmarks/spark.py
	MLFLOW_DISABLE_TELEMETRY=true $(BIN)/python benchmarks/startup.py
	$(BIN)/python benchmarks/collect.py

clean:
	rm -rf $(VENV) aiready-demo .pytest_cache .mypy_cache .ruff_cache
