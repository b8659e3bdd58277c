"""The MNIST course's companion package: load MNIST, check flags, keep score.

In a notebook::

    import checks
    mnist = checks.fetch_mnist()          # offline from MNIST_DATA_DIR, the cache, or OpenML
    checks.check("1.1", my_answer)        # right / wrong / not answered, with points
    checks.progress()                     # your score, chapter by chapter
"""

from checks.checker import FlagNotCaptured, check
from checks.mistakes import mistake
from checks.mnist import MnistError, fetch_mnist
from checks.scoreboard import progress

__all__ = ["FlagNotCaptured", "MnistError", "check", "fetch_mnist", "mistake", "progress"]
__version__ = "0.1.0"
