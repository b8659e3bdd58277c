"""Variants: re-run a chapter with other parameter values, and know the answers they give.

Each chapter's notebook has a papermill ``parameters`` cell (``random_state = 42``,
``target_digit = "5"``...). ``grade --variant target_digit=3`` re-executes every submission with
the chapters' matching parameters changed, and judges it against the *solution* notebook executed
with the same values. The grader runs each solution once per variant and caches the answers, as
salted hashes only, like ``answer_keys.json``: the expected values never reach a student kernel,
nor the disk in plain text.
"""

from __future__ import annotations

import ast
import hashlib
import json
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path

import nbformat

from checks.catalogue import flags
from checks.execute import run_notebook
from checks.files import atomic_write_text
from checks.hashing import AnswerKey, load_keys, make_key
from checks.keys import RECORD_FILE, read_records, recording_env

PARAMETERS_TAG = "parameters"
_PINNED = ("numpy", "scipy", "scikit-learn")


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


@dataclass(frozen=True)
class VariantKeys:
    """The answers of one chapter's solution under one variant, hashed."""

    parameters: dict[str, object]
    keys: dict[str, AnswerKey]
    unchanged: list[str]  # flags whose answer is the same as without the variant

    def to_json(self) -> str:
        """The cache file's text."""
        document = {
            "parameters": self.parameters,
            "unchanged": self.unchanged,
            "flags": {flag_id: asdict(key) for flag_id, key in self.keys.items()},
        }
        return json.dumps(document, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> VariantKeys:
        """Read a cache file."""
        data = json.loads(text)
        keys = {flag_id: AnswerKey(**entry) for flag_id, entry in data["flags"].items()}
        return cls(data["parameters"], keys, list(data["unchanged"]))


def cache_name(solution: Path, parameters: dict[str, object]) -> str:
    """A file name that changes with the solution, the values and the pinned libraries."""
    versions = {name: metadata.version(name) for name in _PINNED}
    fingerprint = hashlib.sha256(solution.read_bytes())
    fingerprint.update(json.dumps([parameters, versions], sort_keys=True).encode())
    return f"{solution.stem}-{fingerprint.hexdigest()[:20]}.json"


class SolutionFailed(RuntimeError):
    """The solution notebook does not run, or does not answer its flags, under a variant."""


def execute_solution(
    solution: Path, chapter: int, parameters: dict[str, object], cell_timeout: int
) -> VariantKeys:
    """Run the solution with ``parameters`` and hash the answers of the chapter's flags."""
    expected = [flag_id for flag_id, flag in flags().items() if flag.chapter == chapter]
    with tempfile.TemporaryDirectory(prefix="checks-variant-") as scratch:
        workdir = Path(scratch)
        execution = run_notebook(
            solution,
            workdir / solution.name,
            parameters=parameters,
            env=recording_env(solution, workdir),
            cell_timeout=cell_timeout,
        )
        if not execution.ok:
            raise SolutionFailed(
                f"{solution.name} fails with {parameters}:\n{execution.error_summary()}"
            )
        records = read_records(workdir / RECORD_FILE)
    answers: dict[str, set[str]] = {flag_id: set() for flag_id in expected}
    for record in records:
        answers.setdefault(record.flag, set()).add(record.canonical)
    unusable = [flag_id for flag_id in expected if len(answers[flag_id]) != 1]
    if unusable:
        raise SolutionFailed(
            f"{solution.name} with {parameters} does not answer flag(s) {', '.join(unusable)} "
            "exactly one way"
        )
    canonical = {flag_id: answers[flag_id].pop() for flag_id in expected}
    default_keys = load_keys()
    unchanged = [
        flag_id
        for flag_id, text in canonical.items()
        if flag_id in default_keys and default_keys[flag_id].matches(flag_id, text)
    ]
    keys = {
        flag_id: make_key(flag_id, text, f"{solution.name} {parameters}")
        for flag_id, text in canonical.items()
    }
    return VariantKeys(parameters, keys, unchanged)


def variant_keys(
    solution: Path,
    chapter: int,
    parameters: dict[str, object],
    cache_dir: Path,
    *,
    cell_timeout: int = 600,
    report: Callable[[str], None] = print,
) -> VariantKeys:
    """The hashed answers of ``solution`` under ``parameters``: from the cache, or by running it."""
    cached = cache_dir / cache_name(solution, parameters)
    if cached.is_file():
        try:
            return VariantKeys.from_json(cached.read_text(encoding="utf-8"))
        except (ValueError, KeyError, TypeError):
            report(f"Ignoring the unreadable cache file {cached}.")
    shown = ", ".join(f"{name}={value!r}" for name, value in parameters.items())
    report(f"Running the solution {solution.name} with {shown} (once; the result is cached) ...")
    keys = execute_solution(solution, chapter, parameters, cell_timeout)
    atomic_write_text(cached, keys.to_json())
    return keys
