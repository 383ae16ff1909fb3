"""trainer: a tiny, exact and fast two-layer neural network trainer."""

__version__ = "0.1.0"
