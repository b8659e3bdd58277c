"""What a course author runs: the student notebooks, the student edition, the answer keys.

- :mod:`~checks.authoring.notebooks`: which file is which chapter;
- :mod:`~checks.authoring.release`: student notebooks (``notebooks/``) from ``solutions/``;
- :mod:`~checks.authoring.edition`: the publishable tree without ``solutions/``;
- :mod:`~checks.authoring.solution_runs`: a solution run and its one answer per flag;
- :mod:`~checks.authoring.keys`: ``answer_keys.json`` from the executed solutions.
"""
