"""Seed groups: one config trained once per seed, their summary, and comparisons of runs and groups."""
