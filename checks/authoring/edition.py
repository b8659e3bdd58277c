"""The student edition: the course as instructors publish it, without ``solutions/``.

It holds the book's pages, the student notebooks, the ``checks`` package with its hashed answer
keys, and what builds and installs them (configs, ``pyproject.toml``, the book's workflow), with a
README and a Makefile of its own, for students. The tests stay out: they execute the solutions.
The instructor guide (the grader's trust model and its limits) stays out too, unless asked for.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from checks.authoring.release import release, repository_url
from checks.authoring.student_files import STUDENT_MAKEFILE, student_readme
from checks.layout import chapter_notebooks

COPIED_PATHS = (
    "book",
    "notebooks",
    "checks",
    "_config.yml",
    "_toc.yml",
    "environment.yml",
    "pyproject.toml",
    "LICENSE",
    ".gitignore",
    ".github/workflows/book.yml",
)
INSTRUCTOR_GUIDE = "book/instructors"
TOC = "_toc.yml"
_LEFT_OUT = shutil.ignore_patterns(
    "__pycache__", "*.pyc", ".ipynb_checkpoints", "_build", "*.lock", "*.egg-info"
)
_TOC_HEADER = (
    "# Table of contents of the student edition (`python -m checks release --student-edition`).\n"
)


class EditionError(ValueError):
    """The student edition cannot be written there."""


@dataclass(frozen=True)
class Edition:
    """What making a student edition did.

    Attributes
    ----------
    written
        The top-level paths written in the edition's folder.
    rewritten
        The instructor's own files that ``release`` rewrote first (its ``notebooks/`` among them).
    warnings
        What the instructor should look at before publishing.
    """

    written: list[Path]
    rewritten: list[Path]
    warnings: list[str] = field(default_factory=list)


def write_student_edition(
    root: Path, target: Path, *, with_instructor_guide: bool = False
) -> Edition:
    """Bring ``notebooks/`` up to date, then write the publishable tree into ``target``.

    ``target`` must not exist or be empty (nothing of the instructor's is ever overwritten).
    The instructor guide is left out of the edition's book unless ``with_instructor_guide``.
    """
    root, target = root.resolve(), target.resolve()
    sources = [root / relative for relative in (*COPIED_PATHS, "README.md", "Makefile")]
    if target == root or any(target == source or source in target.parents for source in sources):
        raise EditionError(f"{target} would be inside what it copies; choose another folder")
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise EditionError(f"{target} exists and is not an empty folder")
    rewritten = release(root)
    written = []
    for relative in COPIED_PATHS:
        source = root / relative
        if not source.exists():
            continue
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, destination, ignore=_LEFT_OUT)
        else:
            shutil.copy2(source, destination)
        written.append(destination)
    if not with_instructor_guide:
        _leave_out_the_guide(target)
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    url = repository_url(root)
    readme = student_readme(str(config["title"]), url, chapter_notebooks(target / "notebooks"))
    (target / "README.md").write_text(readme, encoding="utf-8")
    (target / "Makefile").write_text(STUDENT_MAKEFILE, encoding="utf-8")
    written += [target / "README.md", target / "Makefile"]
    warnings = []
    if any(same_repository(url, remote) for remote in git_remotes(root)):
        warnings.append(
            f"_config.yml's repository URL ({url}) is this instructor repository's own git "
            "remote: the edition's Colab cells would install from it and its launch buttons "
            "open it. Set it to the published student repository, then make the edition again."
        )
    return Edition(written, rewritten, warnings)


def _leave_out_the_guide(target: Path) -> None:
    """Remove the instructor guide from the edition's pages and from its table of contents."""
    (target / f"{INSTRUCTOR_GUIDE}.md").unlink(missing_ok=True)
    toc = yaml.safe_load((target / TOC).read_text(encoding="utf-8"))
    for part in toc.get("parts", []):
        part["chapters"] = [
            chapter for chapter in part["chapters"] if chapter.get("file") != INSTRUCTOR_GUIDE
        ]
    toc["parts"] = [part for part in toc.get("parts", []) if part["chapters"]]
    text = yaml.safe_dump(toc, sort_keys=False, allow_unicode=True)
    (target / TOC).write_text(_TOC_HEADER + text, encoding="utf-8")


def git_remotes(root: Path) -> list[str]:
    """The URLs of the git remotes of the repository at ``root`` (none if it is not one)."""
    try:
        completed = subprocess.run(
            ["git", "-C", str(root), "remote", "-v"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    if completed.returncode != 0:
        return []
    return sorted({line.split()[1] for line in completed.stdout.splitlines() if line.split()})


_SCP_LIKE = re.compile(r"^(?:[\w.-]+@)?(?P<host>[\w.-]+):(?P<path>(?!//).+)$")


def _repository_key(url: str) -> str:
    """``host/owner/name``, lower-cased, from an https, ssh or scp-like git URL."""
    url = url.strip().removesuffix("/").removesuffix(".git")
    scp = _SCP_LIKE.match(url)
    if scp and "://" not in url:
        return f"{scp['host']}/{scp['path']}".lower()
    without_scheme = url.split("://", 1)[-1]
    host_and_path = without_scheme.rsplit("@", 1)[-1] if "@" in without_scheme else without_scheme
    host, _, path = host_and_path.partition("/")
    return f"{host.split(':')[0]}/{path}".lower()


def same_repository(first: str, second: str) -> bool:
    """Whether two git URLs (https, ssh, ``git@host:owner/name``) name the same repository."""
    return _repository_key(first) == _repository_key(second)
