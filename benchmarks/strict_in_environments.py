"""Every solution in strict mode in declared environments of the compatibility matrix, no cell.

What a student gets in an environment fixed at a declared scikit-learn version: the solutions run
unchanged (the Colab cell does nothing outside Colab) with ``CHECKS_STRICT=1``, so any flag the
keys refuse fails the run. Uses the matrix's cached virtual environments (made if missing), with
the course package installed from this checkout. Run from the repository root:

    .venv/bin/python benchmarks/strict_in_environments.py            # every declared environment
    .venv/bin/python benchmarks/strict_in_environments.py 1.6.1 1.5.2
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from checks.authoring.compatibility.declared import load_declaration  # noqa: E402
from checks.authoring.compatibility.environments import ensure_environment  # noqa: E402
from checks.authoring.compatibility.runs import kernel_environment  # noqa: E402
from checks.checker import STRICT_VARIABLE  # noqa: E402
from checks.layout import chapter_notebooks  # noqa: E402
from checks.running.execute import run_notebook  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Run the solutions strictly in each named environment; exit 1 if any run fails."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("environments", nargs="*", help="declared names (default: all)")
    arguments = parser.parse_args(argv)
    declaration = load_declaration(ROOT)
    failed = []
    for environment in declaration.named(arguments.environments or None):
        python = ensure_environment(environment, ROOT, declaration.runner)
        started = time.perf_counter()
        print(f"{environment.name} {environment.versions()}:", flush=True)
        with tempfile.TemporaryDirectory(prefix="checks-strict-") as scratch:
            for notebook in chapter_notebooks(ROOT / "solutions").values():
                workdir = Path(scratch) / notebook.stem
                workdir.mkdir()
                env = {**kernel_environment(workdir, notebook.name), STRICT_VARIABLE: "1"}
                execution = run_notebook(
                    notebook, workdir / notebook.name, env=env, inherit_env=False, python=python
                )
                print(f"  {notebook.name}: {'ok' if execution.ok else 'FAILED'}", flush=True)
                if not execution.ok:
                    failed.append(f"{environment.name} {notebook.name}")
                    print(execution.error_summary())
        print(f"  {time.perf_counter() - started:.0f} s", flush=True)
    print("All passed in strict mode." if not failed else f"Failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
