"""python -m tests.fleet COMMAND: build, start and tear down the simulated Docker fleet."""

import sys

from .cli import main

sys.exit(main())
