"""Write the student notebooks (``notebooks/``) from the instructor notebooks (``solutions/``).

Solution code is marked in the solution notebooks in one of two ways:

* a line ending in ``# SOLUTION``: ``answer = (y_train == "5").sum()  # SOLUTION`` becomes
  ``answer = ...  # your code here`` (for an assignment) or ``...  # your code here``;
* a block between ``# BEGIN SOLUTION`` and ``# END SOLUTION`` lines, which becomes one
  ``# your code here`` line at the block's indentation.

A code cell tagged ``mistakes`` (the declared wrong ways to compute a flag, see
:func:`checks.mistake`) is left out of the student version altogether, and so out of the book.

The student version also loses every output and execution count. Names assigned by solution code
must not be needed by later cells, so a student notebook with every exercise left blank still runs
from top to bottom.

``release`` also writes what else derives from the sources, in the solutions too: every notebook's
metadata, as JupyterLab writes it back (:mod:`checks.authoring.jupyter_metadata`), so committed
notebooks open unmodified; every notebook's install cell (:mod:`checks.authoring.install_cell`),
with the repository URL (from ``repository.url`` in ``_config.yml``, its one home) and the
scikit-learn version (the ``course`` extra's pin in ``pyproject.toml``, its one home); and the
book's flag table (``book/flag_table.md``, from ``checks/flags.toml``).

It runs only where ``solutions/`` is: in a student edition the student notebooks are the source,
and ``release`` refuses (:class:`NoSolutions`) rather than delete them.
"""

from __future__ import annotations

import copy
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import nbformat
import yaml

from checks.authoring.compatibility.declared import course_pins
from checks.authoring.install_cell import with_repository
from checks.authoring.jupyter_metadata import notebook_metadata, same_but_python_version
from checks.authoring.links import link_table
from checks.authoring.variant_set import variant_table
from checks.catalogue import load_catalogue
from checks.files import atomic_write_text
from checks.layout import FLAG_TABLE, LINK_TABLE, NOTEBOOKS, SOLUTIONS, VARIANT_SET, VARIANT_TABLE
from checks.mistakes import MISTAKES_TAG

BEGIN, END, LINE_MARK = "# BEGIN SOLUTION", "# END SOLUTION", "# SOLUTION"
PROMPT = "# your code here"
_ASSIGNMENT = re.compile(r"^(?P<indent>\s*)(?P<target>[A-Za-z_][\w.\[\]\"', ]*?)\s*=(?!=)")


class MarkerError(ValueError):
    """Solution markers are unbalanced or misplaced."""


class NoSolutions(ValueError):
    """There is no ``solutions/`` folder: the student notebooks are the source (an edition)."""


def strip_solution_source(source: str, where: str = "") -> str:
    """Replace the marked solution code in one cell's source by blanks and prompts."""
    output: list[str] = []
    inside_block = False
    for number, line in enumerate(source.splitlines(), start=1):
        stripped = line.strip()
        if stripped == BEGIN:
            if inside_block:
                raise MarkerError(f"{where} line {number}: {BEGIN} inside another solution block")
            inside_block = True
            output.append(line[: len(line) - len(line.lstrip())] + PROMPT)
        elif stripped == END:
            if not inside_block:
                raise MarkerError(f"{where} line {number}: {END} without {BEGIN}")
            inside_block = False
        elif inside_block:
            continue
        elif line.rstrip().endswith(LINE_MARK):
            output.append(_blank_line(line))
        else:
            output.append(line)
    if inside_block:
        raise MarkerError(f"{where}: {BEGIN} is never closed by {END}")
    return "\n".join(output)


def _blank_line(line: str) -> str:
    match = _ASSIGNMENT.match(line)
    if match:
        return f"{match['indent']}{match['target']} = ...  {PROMPT}"
    indent = line[: len(line) - len(line.lstrip())]
    return f"{indent}...  {PROMPT}"


def has_solution_markers(source: str) -> bool:
    """Whether a cell's source contains solution code."""
    return any(
        line.strip() in (BEGIN, END) or line.rstrip().endswith(LINE_MARK)
        for line in source.splitlines()
    )


def repository_url(root: Path) -> str:
    """The course repository's URL, from ``repository.url`` in ``_config.yml``."""
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    return str(config["repository"]["url"])


def pinned_scikit_learn(root: Path) -> str:
    """The course's scikit-learn version: its pin in the ``course`` extra of ``pyproject.toml``."""
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    return course_pins(project)["scikit-learn"]


def is_mistakes_cell(cell: nbformat.NotebookNode) -> bool:
    """Whether a cell declares mistakes (tagged ``mistakes``): for the keys, not for students."""
    return MISTAKES_TAG in cell.get("metadata", {}).get("tags", [])


_FLAG_HEADING = re.compile(r"^### Flag (?P<id>\S+) \N{EN DASH} .*$", re.MULTILINE)


def flag_headings(notebook: nbformat.NotebookNode) -> dict[str, str]:
    """The flag headings of a notebook's text cells, by flag id (``"2.1"`` -> its heading line)."""
    found = {}
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for match in _FLAG_HEADING.finditer(cell.source):
                found[match["id"]] = match[0]
    return found


def with_catalogue_headings(source: str, where: str = "") -> str:
    """``source`` with each ``### Flag N.M – ...`` line rewritten from ``checks/flags.toml``.

    The catalogue is the one home of a flag's title and points; raises ``ValueError`` for a
    heading whose flag it does not know.
    """
    catalogue = load_catalogue().flags

    def heading(match: re.Match) -> str:
        if match["id"] not in catalogue:
            message = f"{where}: a heading names flag {match['id']}, not in checks/flags.toml"
            raise ValueError(message)
        return f"### {catalogue[match['id']].heading}"

    return _FLAG_HEADING.sub(heading, source)


def student_version(solution: nbformat.NotebookNode, where: str = "") -> nbformat.NotebookNode:
    """The student notebook for one solution notebook: no solution code, no declared mistakes."""
    notebook = copy.deepcopy(solution)
    kept = []
    for index, cell in enumerate(notebook.cells):
        if is_mistakes_cell(cell):
            continue
        kept.append(cell)
        cell.metadata.pop("execution", None)
        cell.metadata.pop("papermill", None)
        if cell.cell_type == "markdown":
            cell.source = with_catalogue_headings(cell.source, f"{where} cell {index}")
        if cell.cell_type != "code":
            continue
        cell.source = strip_solution_source(cell.source, f"{where} cell {index}")
        cell.outputs = []
        cell.execution_count = None
    notebook.cells = kept
    notebook.metadata = notebook_metadata()
    return notebook


def serialise(notebook: nbformat.NotebookNode) -> str:
    """The notebook as the text written to disk (stable, ends with a newline)."""
    text = nbformat.writes(notebook)
    return text if text.endswith("\n") else text + "\n"


def flag_table() -> str:
    """The book page listing every flag: id, chapter, points, title (never the answer)."""
    catalogue = load_catalogue()
    lines = [
        "# Flag table",
        "",
        "<!-- Generated by `python -m checks release` from checks/flags.toml: do not edit. -->",
        "",
        "Every flag of the course. The answers are not here, nor anywhere in the course: see",
        "[Flags and points](flags.md).",
        "",
        "| Flag | Chapter | Points | Title |",
        "| --- | --- | ---: | --- |",
    ]
    for flag in catalogue.flags.values():
        chapter = f"{flag.chapter}. {catalogue.chapters[flag.chapter]}"
        lines.append(f"| {flag.id} | {chapter} | {flag.points} | {flag.title} |")
    total = sum(flag.points for flag in catalogue.flags.values())
    lines += ["", f"**{len(catalogue.flags)} flags, {total} points in all.**", ""]
    return "\n".join(lines)


@dataclass(frozen=True)
class ReleasePlan:
    """What ``release`` would write, and what it would remove."""

    to_write: dict[Path, str]
    stale: list[Path]

    def out_of_date(self) -> list[Path]:
        """Generated files that differ from what the sources give, or whose source is gone."""
        changed = [path for path, text in self.to_write.items() if not _holds(path, text)]
        return changed + self.stale


def _holds(path: Path, text: str) -> bool:
    """Whether ``path`` holds ``text`` (for a notebook, up to the Python version it records)."""
    if not path.is_file():
        return False
    stored = path.read_text(encoding="utf-8")
    if path.suffix == ".ipynb":
        return same_but_python_version(stored, text)
    return stored == text


def plan_release(root: Path) -> ReleasePlan:
    """Compute every generated file of the course rooted at ``root``.

    Raises
    ------
    NoSolutions
        If ``root`` has no solution notebook (a student edition: its notebooks are the source).
    """
    solutions, notebooks = root / SOLUTIONS, root / NOTEBOOKS
    if not sorted(solutions.glob("*.ipynb")):
        raise NoSolutions(
            f"{root} has no solutions/: its student notebooks are the source, not generated, so "
            "`release` changes nothing here (run it in the instructor repository, which has "
            "solutions/)"
        )
    url, scikit_learn = repository_url(root), pinned_scikit_learn(root)
    to_write = {}
    for solution_path in sorted(solutions.glob("*.ipynb")):
        solution = with_repository(nbformat.read(solution_path, as_version=4), url, scikit_learn)
        solution.metadata = {**solution.metadata, **notebook_metadata()}
        to_write[solution_path] = serialise(solution)
        student = student_version(solution, solution_path.name)
        to_write[notebooks / solution_path.name] = serialise(student)
    to_write[root / FLAG_TABLE] = flag_table()
    to_write[root / LINK_TABLE] = link_table(root)
    if (root / VARIANT_SET).is_file():
        to_write[root / VARIANT_TABLE] = variant_table(root)
    stale = [path for path in sorted(notebooks.glob("*.ipynb")) if path not in to_write]
    return ReleasePlan(to_write, stale)


def release(root: Path) -> list[Path]:
    """Write the generated files; remove student notebooks whose solution is gone."""
    plan = plan_release(root)
    changed = plan.out_of_date()
    for path, text in plan.to_write.items():
        if path in changed:
            atomic_write_text(path, text)
    for path in plan.stale:
        path.unlink()
    return changed
