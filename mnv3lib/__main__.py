"""`python -m mnv3lib`: the same command line as the `mnv3lib` console script."""
import sys

from .cli import main

sys.exit(main())
