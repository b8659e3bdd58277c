"""The course's layout: where its solutions, notebooks, book, package files and caches are.

The one place a path of the course is worked out. A course repository (or a student edition of
it) holds ``solutions/`` (the authors' notebooks; not in a student edition), ``notebooks/`` (the
students'), ``book/`` (the pages the authoring tools write into), and the ``checks`` package with
the files it ships (``flags.toml``, the answer keys). Each notebook ``NN_name.ipynb`` is chapter NN.
What is computed once and kept (MNIST, the solutions' answers under variants, the compatibility
runs, the draw page's model) is under the user's cache folder.
"""

from __future__ import annotations

import os
import re
from importlib import resources
from pathlib import Path

SOLUTIONS, NOTEBOOKS, BOOK, BUILD = "solutions", "notebooks", "book", "_build"
#: The pages of the book written by the authoring tools, relative to the course's root.
FLAG_TABLE = Path(BOOK) / "flag_table.md"
VARIANT_TABLE = Path(BOOK) / "variant_table.md"
COMPATIBILITY_TABLE = Path(BOOK) / "compatibility.md"
LINK_TABLE = Path(BOOK) / "nbgitpuller_links.md"
DRAW_PAGE = Path(BOOK) / "draw_a_digit.md"
#: The parameter values the book's variant table shows, beside the solutions.
VARIANT_SET = Path(SOLUTIONS) / "variants.toml"
#: Where the book build writes the draw page's scripts (as ``_config.yml`` lists it).
DRAW_PAGE_ASSETS = f"{BUILD}/draw_page"
#: The speed budget's measurements: the latest `make bench`, and the recorded table (committed).
BENCH_LATEST = Path(BUILD) / "bench.json"
BENCH_RECORD = Path("benchmarks") / "timings.json"

_CHAPTER_FILE = re.compile(r"^(?P<chapter>\d{2})_\w+$")


def course_root() -> Path:
    """The course repository: the current folder if it has solutions/, else the package's parent.

    Returns
    -------
    pathlib.Path
        The folder of ``solutions/``, ``notebooks/``, ``book/`` and ``checks/``.
    """
    here = Path.cwd()
    if (here / SOLUTIONS).is_dir():
        return here
    return Path(__file__).resolve().parent.parent


def solutions_folder(root: Path | None = None) -> Path:
    """The folder of the solution notebooks.

    Parameters
    ----------
    root : pathlib.Path, optional
        The course's folder; by default :func:`course_root`.

    Returns
    -------
    pathlib.Path
        ``root/solutions``.
    """
    return (root or course_root()) / SOLUTIONS


def chapter_of_file(path: Path) -> int | None:
    """The chapter a course notebook file is (``03_multiclass.ipynb`` -> 3), or None.

    Parameters
    ----------
    path : pathlib.Path
        A file.

    Returns
    -------
    int or None
        The chapter, when the name is ``NN_name.ipynb``.
    """
    match = _CHAPTER_FILE.match(path.stem)
    return int(match["chapter"]) if match and path.suffix == ".ipynb" else None


def chapter_notebooks(folder: Path) -> dict[int, Path]:
    """The course notebooks in ``folder``, by chapter number, in order.

    Parameters
    ----------
    folder : pathlib.Path
        ``solutions/``, ``notebooks/`` or any folder of ``NN_name.ipynb`` files.

    Returns
    -------
    dict of int to pathlib.Path
        Chapter -> its notebook.
    """
    found = {}
    for path in sorted(folder.glob("*.ipynb")):
        chapter = chapter_of_file(path)
        if chapter is not None:
            found[chapter] = path
    return found


def course_notebooks(root: Path) -> dict[int, Path]:
    """The chapters of the course at ``root``: its solutions (a student edition: its notebooks).

    Parameters
    ----------
    root : pathlib.Path
        The course's folder.

    Returns
    -------
    dict of int to pathlib.Path
        Chapter -> its notebook.
    """
    solutions = root / SOLUTIONS
    return chapter_notebooks(solutions if solutions.is_dir() else root / NOTEBOOKS)


def package_file(name: str) -> Path:
    """A file shipped inside the ``checks`` package (``answer_keys.json``, ``flags.toml``...).

    Parameters
    ----------
    name : str
        The file's name in the package.

    Returns
    -------
    pathlib.Path
        Where it is installed.
    """
    return Path(str(resources.files("checks").joinpath(name)))


def cache_dir() -> Path:
    """The course's folder in the user's cache: ``$XDG_CACHE_HOME/mnist-course`` (``~/.cache``).

    Below it: MNIST's files (unless ``MNIST_CACHE_DIR`` says otherwise), ``variants/`` (the
    solutions' hashed answers under variants), ``compat/`` (the compatibility matrix's
    environments and results) and ``draw-model/`` (the draw page's model).

    Returns
    -------
    pathlib.Path
        The folder (it may not exist yet).
    """
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "mnist-course"


def variants_cache() -> Path:
    """Where the grader caches the solutions' hashed answers under variants (signed).

    Returns
    -------
    pathlib.Path
        ``variants/`` in :func:`cache_dir`.
    """
    return cache_dir() / "variants"
