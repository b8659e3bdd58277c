"""``python -m checks.running.notebook_runner``: papermill, with the kernel's folder set apart.

Papermill's own ``--cwd`` moves the papermill process into the notebook's folder, so a notebook
that deletes its folder breaks papermill's final save and its report. Here only the *kernel*
starts in that folder (nbclient's ``resources.metadata.path``); papermill stays where it was
started, a folder the notebook is not told about.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys


def main(argv: list[str] | None = None) -> int:
    """Execute one notebook; exit 0 if every cell ran, 1 with the error otherwise."""
    parser = argparse.ArgumentParser(prog="python -m checks.running.notebook_runner")
    parser.add_argument("notebook")
    parser.add_argument("output")
    parser.add_argument("--kernel-cwd", required=True)
    parser.add_argument("--parameters-json", default="{}")
    parser.add_argument("--cell-timeout", type=int, default=600)
    parser.add_argument("--progress-bar", action="store_true")
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")

    import papermill

    try:
        papermill.execute_notebook(
            arguments.notebook,
            arguments.output,
            parameters=json.loads(arguments.parameters_json),
            kernel_name="python3",
            execution_timeout=arguments.cell_timeout,
            progress_bar=arguments.progress_bar,
            resources={"metadata": {"path": arguments.kernel_cwd}},
        )
    except Exception as error:  # the report the grader and the tests read
        logging.exception("%s: %s", type(error).__name__, error)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
