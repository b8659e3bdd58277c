# The course's two commands:  `make book` (set up, then build the HTML book)  and  `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The offline MNIST copy beside the repository, when there is one (CI and the course machines).
SHARED_MNIST := $(abspath ../shared/data/mnist)
MNIST_DATA_DIR ?= $(if $(wildcard $(SHARED_MNIST)/SHA256SUMS),$(SHARED_MNIST),)
export MNIST_DATA_DIR
# The book to build: this repository, unless told otherwise (the tests build a broken one).
BOOK ?= .

# The tests' own home (HOME, every cache and config folder: tests/conftest.py), emptied before each
# run, so nothing a previous run or session left can make a test pass.
TEST_HOME = $(abspath _build/$@-home)

.PHONY: setup book test check lint release keys bench bench-record clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[course,dev,grading,deep]"
	touch $@

# Warnings are errors, so a notebook that raises fails the build, after every page was tried.
book: setup
	$(BIN)/jupyter-book build $(BOOK) --warningiserror --keep-going

# Everything: the checks package, every notebook, the book as a new user builds it (about 35 min
# on 2 cores).
test: setup
	rm -rf $(TEST_HOME)
	CHECKS_TEST_HOME=$(TEST_HOME) $(BIN)/python -m pytest

# The fast loop: every test that executes no notebook, builds no book, trains on no full MNIST and
# drives no browser (a few minutes).
check: setup
	rm -rf $(TEST_HOME)
	CHECKS_TEST_HOME=$(TEST_HOME) $(BIN)/python -m pytest -m "not slow and not colab"

lint: setup
	$(BIN)/ruff check checks tests

release: setup
	$(BIN)/python -m checks release

keys: setup
	$(BIN)/python -m checks keys

# The speed budget (checks/authoring/speed_budget.py): every chapter timed, also in units of a
# reference workload measured in the same run, written to _build/bench.json and compared with the
# recorded table. Run it on idle cores; bench-record makes the run the recorded table.
bench: setup
	$(BIN)/python benchmarks/run_notebooks.py $(ARGS)

bench-record: setup
	$(BIN)/python benchmarks/run_notebooks.py --record

clean:
	rm -rf _build
