"""Sweeps: grids of config values, each trial trained and scored, run as jobs through joblib or Dask."""
