"""Entry point of ``python -m kernels``."""

import sys

from .frontends.cli import main

if __name__ == "__main__":
    sys.exit(main())
