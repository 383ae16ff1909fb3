"""A training run: a config trained into a run directory (run.py) and the callbacks it hangs on the loop."""
