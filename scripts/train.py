#!/usr/bin/env python3
"""`python scripts/train.py ARGS` is `trainer train ARGS`: the same code, runnable from a checkout."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from trainer.cli import main  # noqa: E402

sys.exit(main(["train", *sys.argv[1:]]))
