# jobctl developer loop. Every target works from a fresh clone with only Python 3.11+
# (and, for the control plane, the Go toolchain) on the machine.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: venv install test unit integration lint typecheck bench run control-plane mirror clean

venv install: $(STAMP)

$(STAMP): setup.cfg pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,dev]' -c constraints.txt
	touch $(STAMP)

# Builds (first time, many minutes) or reuses kube-apiserver and etcd outside the repo.
control-plane:
	hack/build-control-plane.sh --with-kcm

# The README's test command: unit tests, then integration tests on a real kube-apiserver.
test: $(STAMP)
	JOBCTL_ASSETS="$${JOBCTL_ASSETS:-$$(hack/build-control-plane.sh --with-kcm)}" \
		$(PY) -m pytest -q $(PYTEST_ARGS) tests

unit: $(STAMP)
	$(PY) -m pytest -q $(PYTEST_ARGS) tests --ignore=tests/integration

integration: $(STAMP)
	JOBCTL_ASSETS="$${JOBCTL_ASSETS:-$$(hack/build-control-plane.sh --with-kcm)}" \
		$(PY) -m pytest -q $(PYTEST_ARGS) tests/integration

lint: $(STAMP)
	$(VENV)/bin/ruff check jobctl tests hack
	$(VENV)/bin/ruff format --check jobctl tests hack
	@if [ -x hack/verify-mirror ]; then $(PY) hack/verify-mirror; fi

typecheck: $(STAMP)
	$(VENV)/bin/mypy

# The benchmarks' extra (matplotlib for results/bench_e2e.png) on top of the dev install.
$(VENV)/.installed-bench: $(STAMP)
	$(PY) -m pip install --quiet -e '.[bench]'
	touch $@

bench: $(VENV)/.installed-bench
	$(PY) -m hack.bench

run: $(STAMP)
	$(PY) -m hack.run

# The side-by-side mirror (Go beside Python) as static HTML in results/mirror/. Reads the
# pinned Go source from the Go module cache, which the control-plane build fills.
mirror: $(STAMP)
	$(PY) -m hack.mirror_site --out results/mirror

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache results
