#!/bin/sh
# Regenerate the golden loss curve of every shipped config: tests/golden/<config stem>.json.
# Run after a change that is meant to move the curves (tuned configs, new numerics), then review
# what it prints (how each golden moved) and commit tests/golden/. Extra arguments go to
# `trainer curve update`, e.g. --epochs 30. PYTHON picks the interpreter (default: python3).
set -eu
cd "$(dirname "$0")/.."
exec "${PYTHON:-python3}" -m trainer curve update configs/*.yaml "$@"
