"""`python -m policykit`: the same command as the `policykit` script, for environments without it on PATH."""

import sys

from .cli import main

sys.exit(main())
