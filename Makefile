# From word vectors to BERT: every command builds .venv by itself on first use.
#   make course      set up, then execute every notebook into build/ (HTML too) and print a table
#   make test        set up, then unit tests + every notebook under nbval, in one pytest run
#   make student     the student edition (no solutions) in build/student/; make grade SUBMISSIONS=folder grades it
# Overrides: PYTHON=python3.12   TORCH_SPEC="torch==2.13.0 --index-url <your CUDA wheel index>"   NB=03

PYTHON     ?= python3
TORCH_SPEC ?= torch==2.13.0
VENV       := .venv
PY         := $(VENV)/bin/python
STAMP      := $(VENV)/.course-installed
NB         ?=
PYTEST_ARGS ?=
SUBMISSIONS ?=
STUDENT_ARGS ?=
TIMEOUT    ?= 600

.DEFAULT_GOAL := help
.PHONY: help setup course test test-browser unit notebooks lab bench student grade clean clean-all

help:
	@echo "make course     execute every notebook (papermill) into build/, export HTML, print a table"
	@echo "make test       unit tests + nbval over every notebook (what CI runs)"
	@echo "make unit       unit tests only"
	@echo "make test-browser  the explorers in a real browser (JupyterLab + headless Chromium)"
	@echo "make notebooks  re-execute notebooks in place from notebooks/src (NB=03 for one)"
	@echo "make lab        open JupyterLab on notebooks/"
	@echo "make bench      run the benchmarks (ours vs reference implementations)"
	@echo "make student    the student edition, solutions removed, into build/student/ (NB=05 for one)"
	@echo "make grade SUBMISSIONS=folder [NB=05] [TIMEOUT=600]"
	@echo "                run every submitted notebook (sandboxed) -> build/grades/gradebook.csv, summary.csv"
	@echo "make clean      remove build/ ; make clean-all also removes .venv"

setup: $(STAMP)

# The stamp is newer than pyproject.toml once the install has succeeded; a second run skips it.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null || \
	  { echo "This course needs Python 3.10 or newer, but '$(PYTHON)' is $$($(PYTHON) -V 2>&1 || echo missing): install Python >= 3.10 and run e.g. 'make test PYTHON=python3.11'."; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --progress-bar off -q $(TORCH_SPEC)
	$(PY) -m pip install --progress-bar off -q -e ".[dev,ref]"
	@touch $(STAMP)
	@echo "set-up done: $$($(PY) -c 'import torch, sys; print("Python", sys.version.split()[0], "| torch", torch.__version__)')"

course: $(STAMP)
	$(PY) tools/runner.py course $(NB)

# Notebooks and unit tests in one run, on every core: --dist loadscope keeps each notebook's cells on one
# worker (nbval needs them in order, in one kernel); the model cache's file lock makes two notebooks that need
# the same model train it once. A notebook that waits on that lock leaves its core idle, so there is one
# worker more than cores (measured on 2 cores, fresh clone: pytest 823 s with 2 workers, 723 s with 3).
# JOBS=1 runs everything in this process.
JOBS ?= $(shell $(PYTHON) -c "import os; print((os.cpu_count() or 1) + 1)")

test: $(STAMP)
	$(PY) -m pytest notebooks tests --nbval --nbval-current-env -n $(JOBS) --dist loadscope \
	  --nbval-sanitize-with tests/nbval_sanitize.cfg --durations=15 $(PYTEST_ARGS)

BROWSER_TEST_ARGS ?=

# Not part of `make test`: needs Chromium (Debian/Ubuntu: apt-get install chromium) and the "browser" extra.
test-browser: $(STAMP)
	@$(PY) -c 'import playwright' 2>/dev/null || $(PY) -m pip install --progress-bar off -q -e ".[browser]"
	$(PY) tests/browser/check_explorers.py $(BROWSER_TEST_ARGS)

unit: $(STAMP)
	$(PY) -m pytest tests -n $(JOBS) --durations=10 $(PYTEST_ARGS)

notebooks: $(STAMP)
	$(PY) tools/runner.py notebooks $(NB)

lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks/

bench: $(STAMP)
	$(PY) benchmarks/run.py

student: $(STAMP)
	$(PY) tools/student.py $(NB) $(STUDENT_ARGS)

grade: $(STAMP)
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade SUBMISSIONS=folder [NB=05] [TIMEOUT=600]"; exit 2; }
	$(PY) tools/grade.py "$(SUBMISSIONS)" $(if $(NB),--notebook $(NB)) --timeout $(TIMEOUT)

clean:
	rm -rf build .pytest_cache .hypothesis
	find . -name __pycache__ -type d -prune -not -path './.venv/*' -exec rm -rf {} +

clean-all: clean
	rm -rf $(VENV)
