"""``python -m segmart``: the project's command line."""

import sys

from segmart.cli import main

sys.exit(main())
