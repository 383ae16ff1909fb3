"""The defaults train well: a config naming only its data reaches MLPClassifier()'s test accuracy.

MLPClassifier keeps its own defaults but the hidden size (ours) and random_state (the seed); it
gets the same standardised rows, every non-test row, as our data-only config trains on.
iris and spiral: small, so the test is fast, and sensitive to the defaults (docs/accuracy.md has the
figures over seeds and datasets).
"""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from trainer.config.load import config_from_dict
from trainer.model.network import predict
from trainer.runs.run import train_in_memory


def mlp_test_accuracy(data, hidden_size, seed):
    parts = [p for p in (data.train, data.val) if p is not None]
    mlp = MLPClassifier(hidden_layer_sizes=(hidden_size,), random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp.fit(np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))
    return mlp.score(*data.test)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("dataset", ["iris", "spiral"])
def test_data_only_config_reaches_mlpclassifier_accuracy(dataset, seed):
    cfg = config_from_dict({"seed": seed, "data": {"dataset": dataset}})
    data, state = train_in_memory(cfg)
    ours = np.mean(predict(state.params, data.test[0]) == data.test[1])
    assert ours >= mlp_test_accuracy(data, cfg.model.hidden_size, seed)
