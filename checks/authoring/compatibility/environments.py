"""A throwaway virtual environment per declared environment, cached in the user's cache folder.

Each holds the course package installed from the checkout (editable, so it runs the checkout's
``checks``; without the ``course`` extra), the environment's scikit-learn, NumPy and SciPy, and
what executing a notebook needs. A folder is reused while the requirements that made it are the
same (its name carries their digest), so a second run installs nothing; pip's own cache keeps the
wheels.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from checks.authoring.compatibility.declared import Environment
from checks.layout import cache_dir

READY = ".mnist-course-ready"


class EnvironmentFailed(RuntimeError):
    """A virtual environment could not be made (pip could not resolve or install it)."""


def environments_dir() -> Path:
    """Where the matrix's virtual environments live: ``<course cache>/compat/envs``."""
    return cache_dir() / "compat" / "envs"


def python_of(folder: Path) -> Path:
    """The interpreter of the virtual environment in ``folder``."""
    return folder / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def requirements_for(environment: Environment, runner: tuple[str, ...]) -> list[str]:
    """Everything pip installs besides the course package: the three libraries, then the tools."""
    return [*environment.requirements(), *runner]


def environment_folder(environment: Environment, root: Path, runner: tuple[str, ...]) -> Path:
    """The cache folder of ``environment``; its name changes when its requirements do."""
    recipe = "\n".join([str(root.resolve()), sys.version, *requirements_for(environment, runner)])
    digest = hashlib.sha256(recipe.encode()).hexdigest()[:10]
    return environments_dir() / f"{environment.name}-{digest}"


def ensure_environment(
    environment: Environment,
    root: Path,
    runner: tuple[str, ...],
    *,
    rebuild: bool = False,
    report: Callable[[str], None] = print,
) -> Path:
    """Make (or reuse) the virtual environment of ``environment``; return its interpreter.

    Raises
    ------
    EnvironmentFailed
        When pip fails, for example because no wheel of a version exists for this Python.
    """
    folder = environment_folder(environment, root, runner)
    if (folder / READY).is_file() and not rebuild:
        return python_of(folder)
    shutil.rmtree(folder, ignore_errors=True)
    report(f"  creating {folder} ...")
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
    install = [
        str(python_of(folder)),
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "-e",
        str(root.resolve()),
        *requirements_for(environment, runner),
    ]
    completed = subprocess.run(install, capture_output=True, text=True)
    if completed.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        raise EnvironmentFailed(f"{environment.name}: pip failed:\n{completed.stderr[-3000:]}")
    (folder / READY).write_text("\n".join(requirements_for(environment, runner)) + "\n")
    return python_of(folder)


def installed_versions(python: Path, names: tuple[str, ...]) -> dict[str, str]:
    """The versions of ``names`` installed in the environment of ``python``."""
    code = (
        "import json, sys; from importlib import metadata; "
        "print(json.dumps({n: metadata.version(n) for n in sys.argv[1:]}))"
    )
    completed = subprocess.run(
        [str(python), "-c", code, *names], capture_output=True, text=True, check=True
    )

    return json.loads(completed.stdout)
