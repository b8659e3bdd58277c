"""The student edition's own README and Makefile (the instructor's speak of solutions and keys).

The Makefile has only targets that work without ``solutions/`` and the tests: ``setup``,
``book``, ``status`` and ``clean``.
"""

from __future__ import annotations

from pathlib import Path

from checks.catalogue import load_catalogue

STUDENT_MAKEFILE = """\
# The course's commands for students:  `make setup` (once), then `make book` or JupyterLab.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup book status clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
\t$(PYTHON) -m venv $(VENV)
\t$(BIN)/python -m pip install --quiet --upgrade pip
\t$(BIN)/python -m pip install --quiet -e ".[course,deep]"
\ttouch $@

# The HTML book, with every chapter executed, into _build/html/ (a notebook that raises fails it).
book: setup
\t$(BIN)/jupyter-book build . --warningiserror --keep-going

# Your flags so far, chapter by chapter.
status: setup
\t$(BIN)/python -m checks status

clean:
\trm -rf _build
"""

_README = """\
# {title}

A hands-on, graded introduction to **classification** with scikit-learn, on the MNIST handwritten
digits, in five Jupyter notebooks. Along the way you capture **flags**: values you compute, which
the course package `checks` tells you at once are right or not.

## Start

**JupyterLab on your machine** (Python 3.11 or newer, and `make`):

```bash
git clone {repository} mnist-course && cd mnist-course
make setup                 # once: .venv with the exact library versions of the course
.venv/bin/jupyter lab      # then open notebooks/01_mnist_binary.ipynb
```

**Google Colab**: open a notebook of `notebooks/` in Colab (or use the rocket button on a chapter
of the course's book). Its first cell installs the course package. Run the cells from the top.

Working without a network, with conda, or with another scikit-learn: see
[Getting started](book/getting_started.md). How flags are checked and graded:
[Flags and points](book/flags.md).

## The chapters

{chapters}

Each flag cell has a `...` for your answer; running the cell says at once whether it is right.
`make status` (or `checks.progress()` in a notebook) shows your flags so far. What counts for your
marks is your instructor's grading, which re-runs your notebook from top to bottom.

## Commands

```bash
make setup    # the course's environment, in .venv
make book     # the course as an HTML book, every chapter executed, in _build/html/
make status   # your flags so far
make clean    # remove _build/
```

Code: MIT. MNIST: Yann LeCun, Corinna Cortes and Christopher J.C. Burges, CC BY-SA 3.0.
"""


def student_readme(title: str, repository: str, notebooks: dict[int, Path]) -> str:
    """The edition's README: how to start, the chapters (one line each), the commands.

    Parameters
    ----------
    title
        The course's title (``_config.yml``).
    repository
        The URL students clone (``_config.yml``'s ``repository.url``).
    notebooks
        The student notebooks by chapter number.
    """
    catalogue = load_catalogue()
    lines = ["| | notebook | flags |", "| --- | --- | --- |"]
    for chapter, path in notebooks.items():
        chapter_flags = [flag for flag in catalogue.flags.values() if flag.chapter == chapter]
        points = sum(flag.points for flag in chapter_flags)
        title_of = catalogue.chapters.get(chapter, path.stem)
        lines.append(
            f"| {chapter} | {title_of}: `notebooks/{path.name}` "
            f"| {len(chapter_flags)} ({points} pts) |"
        )
    return _README.format(title=title, repository=repository, chapters="\n".join(lines))
