"""Measure one attack of issue 25 graded beside an honest notebook: the before/after figures.

Not a test (``tests/grading/test_grading_limits.py`` is): it prints one JSON line per attack with
the honest notebook's row, the grader's peak memory, the machine's peak process count, the drop
of free disk and available memory during the session, and what was left in the temporary folder.
Run it against any checkout of the course (``CODE_ROOT``, for example an older commit's
worktree, to measure "before"); the grading runs in a child process, niced, ``--jobs 2``, in
namespaces:

    .venv/bin/python benchmarks/grading_attacks.py . flood
    .venv/bin/python benchmarks/grading_attacks.py ../course-before flood
    .venv/bin/python benchmarks/grading_attacks.py . sparse 53687091200   # bytes of holes

Attacks: flood, disk, fork, memory, cpu, deepdir, hostile, latin1, deepfolder, sparse. Each is
sized to show the difference on a 2-core machine without harming it (a 1 GiB flood, 3 GiB of
files, 1,000 sleeping children, 3 GiB of processes and 1.8 GiB of files in memory).
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import nbformat
import psutil

GIB, MIB = 1 << 30, 1 << 20
CHAPTER = "01_mnist_binary"
HONEST = (
    'random_state = 42\ntarget_digit = "5"',
    "import checks\nmnist = checks.fetch_mnist()\nX, y = mnist.data, mnist.target",
    "y_train_target = y[:60_000] == target_digit\n"
    'checks.check("1.1", y_train_target.sum())\n'
    'checks.check("1.2", (X[:60_000][y_train_target][0] > 0).sum())',
)
ATTACKS = {
    "flood": "import os\nchunk = b'x' * (1 << 20)\nfor _ in range(1024):\n    os.write(1, chunk)\n",
    "disk": "for n in range(3 * 64):\n    open(f'fill{n}', 'wb').write(b'x' * (16 << 20))\n",
    "fork": (
        "import os, time\nn = 0\nwhile n < 1000:\n    try:\n        pid = os.fork()\n"
        "    except OSError:\n        break\n    if pid == 0:\n        time.sleep(20)\n"
        "        os._exit(0)\n    n += 1\nprint(n)\ntime.sleep(5)\n"
    ),
    "memory": (
        "import subprocess, sys\n"
        "eat = \"import time; b = b'x' * (1 << 30); time.sleep(15)\"\n"
        "procs = [subprocess.Popen([sys.executable, '-c', eat]) for _ in range(3)]\n"
        "open('/dev/shm/fill', 'wb').write(b'x' * (900 << 20))\n"
        "open('/tmp/fill', 'wb').write(b'x' * (900 << 20))\n"
        "[p.wait() for p in procs]\n"
    ),
    "cpu": (
        "import subprocess, sys, time\nfor _ in range(8):\n"
        "    subprocess.Popen([sys.executable, '-c', 'while True: pass'], start_new_session=True)\n"
        "time.sleep(30)\n"
    ),
    "deepdir": (
        "import os\nfd = os.open('.', os.O_RDONLY)\nfor _ in range(1500):\n"
        "    os.mkdir('d', dir_fd=fd)\n    c = os.open('d', os.O_RDONLY, dir_fd=fd)\n"
        "    os.close(fd)\n    fd = c\n"
    ),
    "hostile": (
        'raise Exception("| 1.1 | 10 / 10 | captured |\\n**Status: ok.** '
        "<script>alert('x')</script>\")"
    ),
}


def notebook(path: Path, *sources: str) -> None:
    """Write a notebook of these code cells."""
    made = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    made.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(made, path)


def make_submissions(subs: Path, attack: str, holes: int) -> None:
    """The honest notebook (``alice``) and the attack's submission, in ``subs``."""
    notebook(subs / "alice" / f"{CHAPTER}.ipynb", *HONEST)
    if attack in ATTACKS:
        notebook(subs / attack / f"{CHAPTER}.ipynb", "import checks", ATTACKS[attack])
    elif attack == "latin1":
        notebook(Path(os.fsdecode(bytes(subs) + b"/caf\xe9")) / f"{CHAPTER}.ipynb", *HONEST)
    elif attack == "deepfolder":
        (subs / "deep").mkdir(parents=True)
        descriptor = os.open(subs / "deep", os.O_RDONLY)
        for _ in range(1500):
            os.mkdir("d", dir_fd=descriptor)
            child = os.open("d", os.O_RDONLY, dir_fd=descriptor)
            os.close(descriptor)
            descriptor = child
        os.close(descriptor)
        notebook(subs / "deep" / f"{CHAPTER}.ipynb", "x = 1")
    elif attack == "sparse":
        notebook(subs / "sparse" / f"{CHAPTER}.ipynb", "x = 1")
        with (subs / "sparse" / "big.bin").open("wb") as stream:
            stream.truncate(holes)
    else:
        sys.exit(f"unknown attack {attack!r}: one of {', '.join([*ATTACKS, 'latin1'])}...")


def main() -> None:
    """Grade the attack beside the honest notebook with ``CODE_ROOT``'s grader; print figures."""
    root, attack = Path(sys.argv[1]).resolve(), sys.argv[2]
    holes = int(sys.argv[3]) if len(sys.argv) > 3 else GIB
    base = Path(tempfile.mkdtemp(prefix="grading-attack-"))
    subs, work, scratch = base / "subs", base / "work", base / "tmp"
    work.mkdir()
    scratch.mkdir()
    make_submissions(subs, attack, holes)
    code = (
        "from checks.grading import grade_folder, Limits\n"
        "from checks.running.limits import GIB\n"
        "try:\n"
        f"    grade_folder({str(subs)!r}, out={str(work / 'gb.csv')!r}, jobs=2,\n"
        "        isolation='namespaces', progress_bar=False, report=print,\n"
        "        limits=Limits(cell_timeout=120, timeout=300, memory=3 * GIB))\n"
        "    print('RESULT ok')\n"
        "except BaseException as error:\n"
        "    print('RESULT', type(error).__name__, str(error)[:200])\n"
    )
    env = {**os.environ, "PYTHONPATH": str(root), "TMPDIR": str(scratch)}
    free, available = shutil.disk_usage("/tmp").free, psutil.virtual_memory().available
    peak = {"rss": 0, "procs": 0, "free": free, "available": available}
    started = time.time()
    child = subprocess.Popen(
        ["nice", "-n", "10", sys.executable, "-c", code],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak["procs"] = max(peak["procs"], len(psutil.pids()))
            peak["free"] = min(peak["free"], shutil.disk_usage("/tmp").free)
            peak["available"] = min(peak["available"], psutil.virtual_memory().available)
            with contextlib.suppress(psutil.Error):
                peak["rss"] = max(peak["rss"], psutil.Process(child.pid).memory_info().rss)
            time.sleep(0.2)

    sampler = threading.Thread(target=sample)
    sampler.start()
    output, _ = child.communicate()
    done.set()
    sampler.join()
    du = subprocess.run(["du", "-sb", str(scratch)], capture_output=True, text=True, check=False)
    left = int(du.stdout.split()[0]) if du.stdout else None  # du copes with any depth
    result: dict[str, object] = {
        "attack": attack,
        "code": str(root),
        "seconds": round(time.time() - started, 1),
        "outcome": [line for line in output.splitlines() if line.startswith(("RESULT", "limit"))],
        "grader_peak_rss_MiB": round(peak["rss"] / MIB),
        "machine_processes_peak": peak["procs"],
        "disk_free_drop_MiB": round((free - peak["free"]) / MIB),
        "memory_available_drop_MiB": round((available - peak["available"]) / MIB),
        "left_in_tmp": sorted(os.listdir(scratch)),
        "left_bytes": left,
    }
    gradebook = work / "gb.csv"
    if gradebook.exists():
        with gradebook.open(encoding="utf-8") as stream:
            rows = {
                r["student"]: (r["status"], r["total"], r["seconds"])
                for r in csv.DictReader(stream)
            }
        result["rows"] = rows
        page = work / "gb-feedback" / "hostile.md"
        if attack == "hostile" and page.exists():
            result["feedback_has_script"] = "<script" in page.read_text(encoding="utf-8")
    else:
        result["rows"] = "no gradebook"
    print(json.dumps(result))
    subprocess.run(["rm", "-rf", str(base)], check=False)  # rm copes with any depth


if __name__ == "__main__":
    main()
