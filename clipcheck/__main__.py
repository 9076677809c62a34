"""`python -m clipcheck`: the `clipcheck` command."""
import sys

from .cli import main

if __name__ == "__main__":  # spawned worker processes import this module too: they must not run the command
    sys.exit(main())
