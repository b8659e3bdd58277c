"""``mnist-digit predict`` with a time and a memory limit: a model may come from anyone.

A model file is checked before use (:mod:`checks.own_digit.model_file`), but a model a
classmate hands over may still hold something no check foresaw. So ``mnist-digit predict`` runs
itself again in a child process (:func:`run_limited`) with at most :data:`MEMORY_BYTES` of
address space and :data:`SECONDS` of time; a child that runs past them, or dies of a signal,
ends with one line, ``not a model this course can use: MODEL: ...``, and exit code 1. The child
is told it is the limited one by :data:`LIMITED_VARIABLE`.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys

#: Set in the child's environment: it runs the command itself.
LIMITED_VARIABLE = "CHECKS_DIGIT_LIMITED"
#: Time for loading the model and predicting every image (ten samples take ~4 s).
SECONDS = 120
#: Address space of the child (NumPy, SciPy and scikit-learn reserve ~1 GB of it on import).
MEMORY_BYTES = 4 * 1024**3


def is_limited() -> bool:
    """Whether this process is the limited child of :func:`run_limited`."""
    return os.environ.get(LIMITED_VARIABLE) == "1"


def _limit(memory: int) -> None:
    """In the child, before it starts: its address space, and no core file."""
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def run_limited(
    argv: list[str], model: str, seconds: float = SECONDS, memory: int = MEMORY_BYTES
) -> int:
    """Run ``mnist-digit ARGV`` in a child process with a time and a memory limit.

    Parameters
    ----------
    argv : list of str
        The command's arguments (``predict MODEL IMAGE...``).
    model : str
        The model file, as the one-line message names it.
    seconds : float, default=SECONDS
        The child's time limit.
    memory : int, default=MEMORY_BYTES
        The child's address space, in bytes.

    Returns
    -------
    int
        The child's exit code; 1 if it ran out of time or died of a signal (one line said so on
        standard error).
    """
    env = {**os.environ, LIMITED_VARIABLE: "1"}
    try:
        completed = subprocess.run(
            [sys.executable, "-m", "checks.own_digit", *argv],
            env=env,
            preexec_fn=lambda: _limit(memory),
            timeout=seconds,
            check=False,
        )
    except subprocess.TimeoutExpired:
        why = f"predicting took more than {seconds:g} s (stopped)"
    else:
        if completed.returncode >= 0:
            return completed.returncode
        name = signal.Signals(-completed.returncode).name
        why = f"predicting killed the process ({name})"
    print(f"mnist-digit: error: not a model this course can use: {model}: {why}", file=sys.stderr)
    return 1
