"""Configs: YAML and `--set` -> a typed, checked Config (load.py, convert.py); hashes and diffs (diff.py)."""
