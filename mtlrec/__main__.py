"""`python -m mtlrec ...`: see mtlrec.cli."""

import sys

from mtlrec.cli import main

sys.exit(main())
