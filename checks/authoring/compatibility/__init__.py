"""The compatibility matrix: the solutions' answers under each declared scikit-learn release.

- :mod:`~checks.authoring.compatibility.declared`: the environments, as ``pyproject.toml``
  declares them;
- :mod:`~checks.authoring.compatibility.environments`: a cached virtual environment for each;
- :mod:`~checks.authoring.compatibility.runs`: the solutions executed there, and the local
  results file (plain answers: never committed);
- :mod:`~checks.authoring.compatibility.matrix`: flag by environment, same / differs /
  unsupported, and which libraries shape answers;
- :mod:`~checks.authoring.compatibility.outputs`: what is committed (the summary, the keys of
  each version's differing answers, the instructor guide's table);
- :mod:`~checks.authoring.compatibility.command`: ``python -m checks compat``.
"""
