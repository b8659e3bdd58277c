"""``python -m checks.own_digit``: the ``mnist-digit`` command line."""

import sys

from checks.own_digit.cli import main

sys.exit(main())
