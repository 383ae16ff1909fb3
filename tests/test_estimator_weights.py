"""TwoLayerNetClassifier's sample_weight and class_weight: integer weights are repeated rows, class
weights are per-row weights, 'balanced' is scikit-learn's formula, validation stays unweighted,
and bad weights are one clear ValueError."""

import numpy as np
import pytest
from sklearn.datasets import make_blobs, make_classification
from sklearn.metrics import recall_score
from sklearn.model_selection import train_test_split
from sklearn.utils.class_weight import compute_sample_weight

from trainer import TwoLayerNetClassifier
from trainer.data.datasets import SEED_BOUND
from trainer.data.preprocess import standardize
from trainer.model.network import PARAM_NAMES
from trainer.training.loop import loss_and_accuracy

X, Y = make_blobs(n_samples=120, centers=3, cluster_std=3.0, random_state=1)
LABELS = np.array(["ant", "bee", "cow"])[Y]
SMALL = dict(hidden_size=8, batch_size=16, lr=0.01, epochs=6, random_state=4)


def same_bits(a, b):
    return a.loss_curve_ == b.loss_curve_ and all(
        a.params_[k].tobytes() == b.params_[k].tobytes() for k in PARAM_NAMES
    )


def test_integer_sample_weights_train_as_repeated_rows_in_full_batches():
    w = np.random.default_rng(0).integers(0, 4, len(Y))
    params = dict(hidden_size=8, batch_size=None, standardize=False, lr=0.01, epochs=60, random_state=0)
    weighted = TwoLayerNetClassifier(**params).fit(X, Y, sample_weight=w)
    repeated = TwoLayerNetClassifier(**params).fit(np.repeat(X, w, axis=0), np.repeat(Y, w))
    np.testing.assert_allclose(weighted.loss_curve_, repeated.loss_curve_, rtol=1e-12, atol=0)
    np.testing.assert_allclose(weighted.predict_proba(X), repeated.predict_proba(X), rtol=1e-10, atol=1e-14)


def test_all_ones_sample_weights_are_no_weights_bit_for_bit():
    plain = TwoLayerNetClassifier(**SMALL).fit(X, LABELS)
    assert same_bits(TwoLayerNetClassifier(**SMALL).fit(X, LABELS, sample_weight=np.ones(120)), plain)
    assert same_bits(TwoLayerNetClassifier(**SMALL).fit(X, LABELS, sample_weight=[1] * 120), plain)


def test_balanced_is_scikit_learns_formula_as_per_row_weights():
    balanced = TwoLayerNetClassifier(**SMALL, class_weight="balanced").fit(X[:100], LABELS[:100])
    # n_samples / (n_classes * bincount(y)) of each row's class: compute_sample_weight's rule
    by_rows = TwoLayerNetClassifier(**SMALL).fit(
        X[:100], LABELS[:100], sample_weight=compute_sample_weight("balanced", LABELS[:100])
    )
    assert same_bits(balanced, by_rows)


def test_a_class_weight_mapping_multiplies_the_sample_weights():
    w = np.random.default_rng(1).uniform(0, 2, 120)
    mapped = TwoLayerNetClassifier(**SMALL, class_weight={"ant": 3.0, "cow": 0.5})
    mapped.fit(X, LABELS, sample_weight=w)
    by_rows = TwoLayerNetClassifier(**SMALL).fit(X, LABELS, sample_weight=w * np.array([3.0, 1.0, 0.5])[Y])
    assert same_bits(mapped, by_rows)


def test_balanced_counts_the_sample_weights():
    w = np.random.default_rng(2).uniform(0.5, 2, 120)
    weighted_counts = np.bincount(Y, weights=w)
    expected = w * (w.sum() / (3 * weighted_counts))[Y]
    a = TwoLayerNetClassifier(**SMALL, class_weight="balanced").fit(X, Y, sample_weight=w)
    b = TwoLayerNetClassifier(**SMALL).fit(X, Y, sample_weight=expected)
    np.testing.assert_allclose(a.loss_curve_, b.loss_curve_, rtol=1e-13)


def test_validation_and_score_stay_unweighted():
    est = TwoLayerNetClassifier(**SMALL, val_size=0.25, class_weight={"ant": 5.0})
    est.fit(X, LABELS, sample_weight=np.linspace(0.1, 3, 120))
    seed = int(np.random.default_rng(4).integers(SEED_BOUND))
    _, val = train_test_split(np.arange(120), test_size=30, random_state=seed, stratify=Y)
    Xv = standardize(X[val], est.scaler_mean_, est.scaler_scale_)
    loss, accuracy = loss_and_accuracy(est.params_, Xv, Y[val])
    assert (loss, accuracy) == (est.validation_loss_curve_[-1], est.validation_scores_[-1])


def test_balanced_raises_minority_recall_on_imbalanced_data():
    recalls = {None: [], "balanced": []}
    for seed in range(3):
        Xi, yi = make_classification(
            n_samples=600, weights=[0.9, 0.1], flip_y=0.02, class_sep=0.7, random_state=seed
        )
        Xa, Xb, ya, yb = train_test_split(Xi, yi, test_size=0.3, stratify=yi, random_state=seed)
        for cw in recalls:
            est = TwoLayerNetClassifier(hidden_size=16, epochs=60, class_weight=cw, random_state=seed)
            recalls[cw].append(recall_score(yb, est.fit(Xa, ya).predict(Xb)))
    assert np.mean(recalls["balanced"]) > np.mean(recalls[None]) + 0.05, recalls


@pytest.mark.parametrize("labels", [["ant", "bee", "cow"], [3, 5, 8]])
def test_a_class_weight_mapping_survives_save_and_load(tmp_path, labels):
    y = np.asarray(labels)[Y]
    est = TwoLayerNetClassifier(**SMALL, class_weight={labels[0]: 2.0, labels[2]: 0.25}).fit(X, y)
    est.save(tmp_path / "m.npz")
    back = TwoLayerNetClassifier.load(tmp_path / "m.npz")
    assert back.get_params() == est.get_params()
    assert list(back.class_weight) == [labels[0], labels[2]]


@pytest.mark.parametrize(
    "fit, message",
    [
        (
            lambda e: e.set_params(class_weight={"ant": 1.0, "emu": 2.0}).fit(X, LABELS),
            "TwoLayerNetClassifier: class_weight: no class 'emu' among the classes (ant, bee, cow)",
        ),
        (
            lambda e: e.set_params(class_weight={"ant": -1.0}).fit(X, LABELS),
            "TwoLayerNetClassifier: class_weight: expected null, 'balanced', or a mapping",
        ),
        (
            lambda e: e.set_params(class_weight="balance").fit(X, LABELS),
            "TwoLayerNetClassifier: class_weight: expected null, 'balanced'",
        ),
        (
            lambda e: e.fit(X, LABELS, sample_weight=-np.ones(120)),
            "Negative values in data passed to `sample_weight`",
        ),
        (lambda e: e.fit(X, LABELS, sample_weight=np.full(120, np.nan)), "Input sample_weight contains NaN"),
        (
            lambda e: e.fit(X, LABELS, sample_weight=np.zeros(120)),
            "Sample weights must contain at least one non-zero",
        ),
        (
            lambda e: e.fit(X, LABELS, sample_weight=np.ones(7)),
            "sample_weight.shape == (7,), expected (120,)",
        ),
        (
            lambda e: e.set_params(class_weight={"ant": 0.0}).fit(X, LABELS, sample_weight=(Y == 0) * 1.0),
            "TwoLayerNetClassifier.fit: every row left for training weighs 0",
        ),
    ],
    ids=[
        "unknown-class",
        "negative",
        "misspelt",
        "negative-sample",
        "nan",
        "all-zero",
        "shape",
        "zero-product",
    ],
)
def test_bad_weights_are_one_clear_value_error(fit, message):
    with pytest.raises(ValueError) as e:
        fit(TwoLayerNetClassifier(**SMALL))
    assert message in str(e.value) and "\n" not in str(e.value)
