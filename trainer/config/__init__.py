"""Configs: YAML and `--set` -> a typed, checked Config (load.py, convert.py); hashing and diffing (diff.py)."""
