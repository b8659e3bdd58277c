"""The course's distribution: its name as installed, and the version of the ``checks`` package.

The one place both are written: :mod:`checks` shows the version as ``checks.__version__``, a model
file of chapter 10 records it (:mod:`checks.own_digit.models`), and the grader finds its own
installed files by the name (:mod:`checks.grading.trust`). The versions of the *libraries* the
answers depend on are :mod:`checks.versions`'.
"""

#: The name the course is installed under (``pip install mnist-course``, pyproject.toml).
DISTRIBUTION = "mnist-course"
__version__ = "0.1.0"
