"""The parameters of a chapter: its ``parameters`` cell, and the values a variant gives them.

Each chapter's notebook has a papermill ``parameters`` cell (``random_state = 42``,
``target_digit = "5"``...). ``grade --variant target_digit=3`` names new values; they are typed
like the defaults, and each chapter gets only the parameters it has.
"""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat

PARAMETERS_TAG = "parameters"


class VariantError(ValueError):
    """A variant cannot be used: bad syntax, unknown parameter, value of the wrong type."""


def parse_assignments(items: list[str]) -> dict[str, str]:
    """``["target_digit=3", "random_state=7"]`` -> ``{"target_digit": "3", ...}``."""
    parsed: dict[str, str] = {}
    for item in items:
        name, equals, value = item.partition("=")
        name = name.strip()
        if not equals or not name.isidentifier() or not value.strip():
            raise VariantError(f"--variant expects KEY=VALUE (e.g. target_digit=3), got {item!r}")
        if name in parsed:
            raise VariantError(f"--variant gives {name} twice")
        parsed[name] = value.strip()
    return parsed


def parameters_cell(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode | None:
    """The code cell tagged ``parameters``, if any."""
    for cell in notebook.cells:
        if cell.cell_type == "code" and PARAMETERS_TAG in cell.metadata.get("tags", []):
            return cell
    return None


def assigned_values(source: str) -> dict[str, object]:
    """The literal values a cell assigns (``a = 1``, ``a, b = "3", "5"``); others are skipped."""
    values: dict[str, object] = {}
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return values
    for statement in tree.body:
        if not isinstance(statement, ast.Assign):
            continue
        for target in statement.targets:
            try:
                value = ast.literal_eval(statement.value)
            except ValueError:
                continue
            if isinstance(target, ast.Name):
                values[target.id] = value
            elif isinstance(target, ast.Tuple) and isinstance(value, tuple):
                names = [element.id for element in target.elts if isinstance(element, ast.Name)]
                if len(names) == len(target.elts) == len(value):
                    values.update(zip(names, value, strict=True))
    return values


def notebook_parameters(path: Path) -> dict[str, object]:
    """The parameters of a notebook and their default values, from its ``parameters`` cell."""
    cell = parameters_cell(nbformat.read(path, as_version=4))
    return assigned_values(cell.source) if cell is not None else {}


def convert(name: str, text: str, default: object) -> object:
    """``text`` as a value of the same type as the parameter's default."""
    try:
        if isinstance(default, bool):
            if text.lower() not in {"true", "false"}:
                raise ValueError
            return text.lower() == "true"
        if isinstance(default, int):
            return int(text)
        if isinstance(default, float):
            return float(text)
    except ValueError:
        raise VariantError(
            f"--variant {name}={text}: expected {type(default).__name__}, like its default "
            f"{default!r}"
        ) from None
    return text.strip("\"'") if isinstance(default, str) else text


def chapter_parameters(
    requested: dict[str, str], parameters_by_chapter: dict[int, dict[str, object]]
) -> dict[int, dict[str, object]]:
    """For each chapter, the requested values of the parameters it has, typed like its defaults.

    A chapter without any of the requested parameters gets ``{}`` (no variant). A parameter no
    chapter has is an error, so that a typo does not silently grade without a variant.
    """
    known = {name for parameters in parameters_by_chapter.values() for name in parameters}
    unknown = sorted(set(requested) - known)
    if unknown:
        raise VariantError(
            f"no chapter has a parameter {', '.join(unknown)}; the parameters are "
            f"{', '.join(sorted(known))}"
        )
    return {
        chapter: {
            name: convert(name, requested[name], default)
            for name, default in parameters.items()
            if name in requested
        }
        for chapter, parameters in parameters_by_chapter.items()
    }


def tag_parameters_cell(notebook_path: Path, parameter_names: set[str]) -> None:
    """Tag the cell that sets the parameters if the tag was lost (some editors drop tags).

    Without the tag papermill would inject the variant's values at the top, where the
    notebook's own assignments would override them.
    """
    notebook = nbformat.read(notebook_path, as_version=4)
    if parameters_cell(notebook) is not None or not parameter_names:
        return
    for cell in notebook.cells:
        if cell.cell_type == "code" and parameter_names <= set(assigned_values(cell.source)):
            cell.metadata.setdefault("tags", []).append(PARAMETERS_TAG)
            nbformat.write(notebook, notebook_path)
            return
