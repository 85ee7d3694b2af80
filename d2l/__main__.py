"""`python -m d2l`: the `d2l` command line (see `d2l.cli`)."""

import sys

from d2l.cli import main

sys.exit(main())
