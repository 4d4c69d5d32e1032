import sys

from memlens.cli import main

# Guarded: the embedding model's process is spawned, and a spawned child imports this module.
if __name__ == "__main__":
    sys.exit(main())
