"""Large literals in a submission: a label table typed or pasted in, to match images to labels.

Withheld labels (:mod:`checks.grading.withheld`) cannot be read in a run, but a notebook can carry
them: MNIST is public, so a student can paste every image's label (and a way to recognise each
image) into a cell. Nothing in the recorded predictions tells that apart from a good model, so the
grader reads the submission's code and names every literal too large to be a lesson's: the
gradebook's ``notes`` column says where, for the instructor to read.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

from checks.files import read_regular_file
from checks.grading.submissions import MAX_NOTEBOOK_BYTES

#: A string or bytes literal longer than this, or a list, tuple, set or dict display with more
#: items, is named. The course's own cells have none over 300 characters or 20 items; 10,000
#: labels take 10,000 characters as digits, about 4,200 bytes packed, 5,600 in base64.
LONGEST_TEXT = 2_000
MOST_ITEMS = 200


def _code(source: str) -> str:
    """A cell's source with IPython's magics and shell lines blanked (kept as lines)."""
    return "\n".join(
        "" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()
    )


def _large(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str | bytes):
        if len(node.value) > LONGEST_TEXT:
            return f"a text literal of {len(node.value):,} characters"
    elif isinstance(node, ast.List | ast.Tuple | ast.Set) and len(node.elts) > MOST_ITEMS:
        return f"a literal of {len(node.elts):,} items"
    elif isinstance(node, ast.Dict) and len(node.keys) > MOST_ITEMS:
        return f"a dict literal of {len(node.keys):,} items"
    return None


def large_literals(notebook: Path) -> list[str]:
    """Where a notebook's code holds a literal too large for the lesson, in words.

    Parameters
    ----------
    notebook : Path
        The submission as handed in.

    Returns
    -------
    list of str
        ``"code cell 12: a text literal of 10,000 characters"``, one per literal; empty for a
        notebook without any (or one that cannot be read: its run says so).
    """
    try:
        cells = json.loads(read_regular_file(notebook, MAX_NOTEBOOK_BYTES))["cells"]
    except Exception:
        return []
    found = []
    code_cells = [
        cell for cell in cells if isinstance(cell, dict) and cell.get("cell_type") == "code"
    ]
    for number, cell in enumerate(code_cells, start=1):
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        try:
            tree = ast.parse(_code(source))
        except (SyntaxError, ValueError):
            found.extend(_raw_large(number, source))
            continue
        found.extend(
            f"code cell {number}: {what}" for node in ast.walk(tree) if (what := _large(node))
        )
    return found


def _raw_large(number: int, source: str) -> list[str]:
    """A cell Python cannot parse: any line longer than :data:`LONGEST_TEXT` is named."""
    longest = max((len(line) for line in source.splitlines()), default=0)
    if longest > LONGEST_TEXT:
        return [f"code cell {number}: a line of {longest:,} characters"]
    return []


def literals_note(notebook: Path | None) -> str:
    """The gradebook's ``notes`` for a submission: its large literals, or ``""``."""
    found = large_literals(notebook) if notebook is not None else []
    if not found:
        return ""
    return (
        "large literal (a label table?): "
        + "; ".join(found[:3])
        + ("; ..." if len(found) > 3 else "")
    )
