"""The bundle's entry point: the same `memlens` command the console script runs."""

import multiprocessing
import sys

from memlens.cli import main

if __name__ == "__main__":
    # Chroma and torch may start helper processes; in a frozen program they must not
    # re-run the command line.
    multiprocessing.freeze_support()
    sys.exit(main())
