"""The MNIST course's companion package: load MNIST, check flags, keep score.

In a notebook::

    import checks
    mnist = checks.fetch_mnist()          # offline from MNIST_DATA_DIR, the cache, or OpenML
    checks.check("1.1", my_answer)        # right / wrong / not answered, with points
    checks.progress()                     # your score, chapter by chapter
    checks.write_kaggle_files()           # chapter 9: Kaggle-style train.csv and test.csv
    checks.validate_submission("submission.csv")
"""

from checks.checker import FlagNotCaptured, check
from checks.distribution import __version__ as __version__
from checks.kaggle import write_kaggle_files
from checks.mistakes import mistake
from checks.mnist import MnistError, fetch_mnist
from checks.scoreboard import progress
from checks.submission import validate_submission

__all__ = [
    "FlagNotCaptured",
    "MnistError",
    "check",
    "fetch_mnist",
    "mistake",
    "progress",
    "validate_submission",
    "write_kaggle_files",
]
