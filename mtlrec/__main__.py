"""`python -m mtlrec ...`: see mtlrec.cli."""

import sys

from mtlrec.cli import main

if __name__ == "__main__":  # not when a training process imports it (mtlrec.procs)
    sys.exit(main())
