"""Files on disk: atomic writes and strict JSON, the safe .npz container, and the formats built on it
(model files, checkpoints, curve files) and the run directory that holds them."""
