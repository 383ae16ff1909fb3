"""Training on arrays: optimizers and learning-rate schedules (optim.py), and the loop (loop.py)."""
