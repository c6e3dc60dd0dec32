"""`python -m backend.scripts.bench` (bench.sh runs it from the repository root)."""

import sys

from backend.scripts.bench.main import main

sys.exit(main(sys.argv[1:]))
