# The two set-up commands of the README: `make book` and `make test`.
# Both create .venv (if missing) and install the kernels package with every extra.

SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# The first Python >= 3.11 on PATH; override with `make PYTHON=/path/to/python`.
PYTHON ?= $(shell for p in python3 python3.14 python3.13 python3.12 python3.11; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
	2>/dev/null && echo $$p && break; done)

.PHONY: install book test notebook lint lab student clean

install: $(STAMP)

# setup.py and the .pyx sources: editing them recompiles the Cython extensions.
$(STAMP): pyproject.toml setup.py $(wildcard kernels/cython/compiled/*.pyx) kernels/core/buildflags.py
	@test -n "$(PYTHON)" || { echo "error: Python 3.11 or newer is needed; set PYTHON=/path/to/python3.11+"; exit 1; }
	@# A venv whose creation was interrupted has no pip: make it again from scratch.
	@$(BIN)/python -m pip --version >/dev/null 2>&1 || $(PYTHON) -m venv --clear $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[all]'
	@# ipykernel writes the spec into a new temporary folder and removes only the spec,
	@# leaving the folder (/tmp/tmp*_kernels): give it a folder of its own, then remove it.
	tmp=$$(mktemp -d) && TMPDIR=$$tmp $(BIN)/python -m ipykernel install --sys-prefix --name python3 \
		--display-name "Python 3 (ipykernel)" >/dev/null; status=$$?; rm -rf "$$tmp"; exit $$status
	@touch $(STAMP)

book: install
	$(BIN)/jupyter-book build . -W -n --keep-going
	@echo
	@echo "The book is in _build/html. Open _build/html/index.html, or serve it with:"
	@echo "    $(BIN)/python -m http.server --directory _build/html 8000"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# KERNELS_QUICK=1: quick sizes for notebooks (nbval) and the book build test.
# The notebooks run first: the book test builds the site from their outputs, and the
# JupyterLab test opens them as nbval ran them (it runs only the chapters with widgets).
# --doctest-modules runs the examples in the package's docstrings; the MPI programs and
# example scripts run under mpiexec only.
test: install lint
	KERNELS_QUICK=1 $(BIN)/python -m pytest --nbval-lax --nbval-current-env --doctest-modules \
		--ignore=kernels/mpi4py/programs --ignore=kernels/mpi4py/examples notebooks tests kernels

# Chapters run as `make test` runs them, with its checks for what a notebook leaves
# behind (processes, temporary files, a kernel that had to be killed):
#     make notebook NB=notebooks/04_multiprocess.ipynb    (KERNELS_QUICK=0: default sizes)
# Given only notebooks, pytest does not load tests/conftest.py, which holds those checks
# and lets each kernel exit when asked (nbval alone kills it); -p conftest loads it.
KERNELS_QUICK ?= 1
notebook: install
	@test -n "$(NB)" || { echo "error: name the notebooks to run: make notebook NB=notebooks/04_multiprocess.ipynb"; exit 2; }
	PYTHONPATH=$(CURDIR)/tests KERNELS_QUICK=$(KERNELS_QUICK) $(BIN)/python -m pytest -p conftest \
		--nbval-lax --nbval-current-env $(PYTEST_ARGS) $(NB)

# Notebooks for handing out: every exercise and checker, no solutions (in student/).
student: install
	$(BIN)/python -m kernels student --source notebooks --out student

lab: install
	$(BIN)/jupyter lab notebooks

clean:
	rm -rf _build .pytest_cache .ruff_cache .hypothesis
	find . -name __pycache__ -not -path './$(VENV)/*' -prune -exec rm -rf {} +
