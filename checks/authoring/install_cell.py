"""The first code cell of every notebook: installs the course in Colab, checks for it elsewhere.

Its source is generated here, its one home, by ``python -m checks release`` (which writes it into
every solution and student notebook): in Google Colab it installs the course package from the
repository named in ``_config.yml`` and the course's scikit-learn; anywhere else, when ``checks``
cannot be imported, it stops with one line saying how to install the course.
"""

from __future__ import annotations

import copy

import nbformat

COLAB_MARK = "google.colab"
PACKAGE = "mnist-course"

_TEMPLATE = """\
# In Google Colab: install the course package `checks` and the course's scikit-learn (NumPy,
# SciPy and the rest stay as Colab has them). Elsewhere: say how to install `checks` if missing.
import importlib.util
import sys

repository = "{repository}"
scikit_learn = "{scikit_learn}"
if "google.colab" in sys.modules:
    import subprocess

    packages = [f"{package} @ git+{{repository}}", f"scikit-learn=={{scikit_learn}}"]
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *packages], check=True)
elif importlib.util.find_spec("checks") is None:
    raise ModuleNotFoundError(
        f'The course is not installed: run  %pip install "{package} @ git+{{repository}}"'
    )"""


def install_cell_source(repository: str, scikit_learn: str) -> str:
    """The install cell's source for the course at ``repository`` and its scikit-learn pin."""
    return _TEMPLATE.format(repository=repository, scikit_learn=scikit_learn, package=PACKAGE)


def is_install_cell(cell: nbformat.NotebookNode) -> bool:
    """Whether ``cell`` is the install cell (the code cell that looks for Colab)."""
    return cell.cell_type == "code" and COLAB_MARK in cell.source


def with_repository(
    notebook: nbformat.NotebookNode, url: str, scikit_learn: str
) -> nbformat.NotebookNode:
    """A copy of ``notebook`` whose install cell installs from ``url``, with ``scikit_learn``."""
    notebook = copy.deepcopy(notebook)
    for cell in notebook.cells:
        if is_install_cell(cell):
            cell.source = install_cell_source(url, scikit_learn)
    return notebook
