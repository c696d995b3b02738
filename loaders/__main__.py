"""``python -m loaders``: the project's command line."""

import sys

from loaders.cli import main

sys.exit(main())
