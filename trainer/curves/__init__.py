"""Regression tests of loss curves: comparing two curves, golden curves per config, and their reports."""
