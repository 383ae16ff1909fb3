"""Test-session settings that must be in place before scipy is first imported."""
import os

# scikit-learn's estimator checks include an array-API check (NumPy namespace) that runs only
# when scipy was imported with this set; without it the check skips (tests/test_estimator.py)
os.environ.setdefault("SCIPY_ARRAY_API", "1")
