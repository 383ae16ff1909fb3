"""Data: the built-in datasets, users' CSV files, and the stratified splits a run trains on."""
