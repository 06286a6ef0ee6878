"""`python -m sealtui`: the same entry point as the `sealtui` command."""

import sys

from sealtui.cli import main

sys.exit(main())
