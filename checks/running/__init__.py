"""Running a notebook in a child process, with limits: the engine under keys and grading.

- :mod:`~checks.running.execute`: :func:`~checks.running.execute.run_notebook` starts papermill
  in a child process and reports how the run ended;
- :mod:`~checks.running.notebook_runner`: that child process (papermill, kernel in the
  notebook's folder);
- :mod:`~checks.running.limits`: a memory ceiling per process, and killing every process a run
  left;
- :mod:`~checks.running.isolation`: a run in Linux namespaces of its own (bubblewrap, else
  unshare), seeing only the system, Python, the ``checks`` package and its folder.
"""
