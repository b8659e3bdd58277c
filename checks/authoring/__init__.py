"""What a course author runs: the student notebooks, the student edition, the answer keys.

- which file is which chapter, and where the course's files are: :mod:`checks.layout`;
- :mod:`~checks.authoring.release`: student notebooks (``notebooks/``) from ``solutions/``;
- :mod:`~checks.authoring.edition`: the publishable tree without ``solutions/``;
- :mod:`~checks.authoring.solution_runs`: a solution run and its one answer per flag;
- :mod:`~checks.authoring.keys`: ``answer_keys.json`` from the executed solutions;
- :mod:`~checks.authoring.compatibility`: the compatibility matrix (``python -m checks compat``);
- :mod:`~checks.authoring.draw_page`: the book's "Draw a digit" page's scripts (a Sphinx extension).
"""
