"""`python -m kuramoto_jax run|show|list ...`: the same command as `kuramoto-jax`."""

import sys

from .cli import main

sys.exit(main())
