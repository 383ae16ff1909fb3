"""TwoLayerNetClassifier goes on exactly: a warm fit of b epochs after a fit of a equals one fit of
a + b, k partial_fit calls equal a fit of k epochs, both bit for bit; the schedule rule; and the
refusals (new classes, partial_fit without classes, 'balanced' in partial_fit)."""

import numpy as np
import pytest
from sklearn.datasets import make_blobs

from trainer import TwoLayerNetClassifier
from trainer.model.network import PARAM_NAMES
from trainer.training.optim import lr_at

X, Y = make_blobs(n_samples=150, centers=3, cluster_std=2.5, random_state=0)
LABELS = np.array(["ant", "bee", "cow"])[Y]
SMALL = dict(hidden_size=8, batch_size=16, lr=0.01, random_state=3)


def assert_same_fit(a, b):
    """Every weight bit, the whole loss curve and the epoch count of two fitted estimators."""
    for k in PARAM_NAMES:
        assert a.params_[k].tobytes() == b.params_[k].tobytes(), k
    assert a.loss_curve_ == b.loss_curve_ and a.n_iter_ == b.n_iter_
    assert a.validation_loss_curve_ == b.validation_loss_curve_


@pytest.mark.parametrize("schedule", ["constant", "step", "exponential"])
@pytest.mark.parametrize("optimizer", ["sgd", "nesterov", "adam"])
@pytest.mark.parametrize("engine", ["fast", "reference"])
def test_fit_then_a_warm_fit_equals_one_long_fit(schedule, optimizer, engine):
    params = dict(SMALL, optimizer=optimizer, lr_schedule=schedule, lr_step=2, lr_decay=0.7, engine=engine)
    params.update(val_size=0.2, class_weight={"ant": 2.0})  # the same validation rows, the same weights
    w = np.random.default_rng(1).uniform(0.5, 2, len(Y))
    one = TwoLayerNetClassifier(**params, epochs=7).fit(X, LABELS, sample_weight=w)
    warm = TwoLayerNetClassifier(**params, epochs=4, warm_start=True).fit(X, LABELS, sample_weight=w)
    warm.set_params(epochs=3).fit(X, LABELS, sample_weight=w)
    assert_same_fit(warm, one)
    assert warm.n_iter_ == 7 and len(warm.validation_loss_curve_) == 7


def test_without_warm_start_a_second_fit_starts_anew():
    est = TwoLayerNetClassifier(**SMALL, epochs=3)
    first = est.fit(X, LABELS).params_["W1"].copy()
    assert np.array_equal(est.fit(X, LABELS).params_["W1"], first) and est.n_iter_ == 3


def test_under_cosine_a_warm_fit_gets_the_lrs_of_the_long_fits_last_epochs():
    est = TwoLayerNetClassifier(**SMALL, epochs=4, warm_start=True, lr_schedule="cosine")
    est.fit(X, LABELS)
    first = [lr_at("cosine", 0.01, e, 4) for e in range(4)]  # the first fit planned 4 epochs
    est.set_params(epochs=6).fit(X, LABELS)  # the plan grows to 10: its epochs 4..9 of a 10-epoch cosine
    lrs = [r["lr"] for r in est._state.history]
    assert lrs == first + [lr_at("cosine", 0.01, e, 10) for e in range(4, 10)]
    assert lrs[3] < lrs[4]  # the first fit annealed over its own 4 epochs: the long fit's rises back


@pytest.mark.parametrize("schedule", ["cosine", "step", "constant"])
@pytest.mark.parametrize("engine", ["fast", "reference"])
def test_k_partial_fits_equal_a_fit_of_k_epochs(schedule, engine):
    params = dict(SMALL, lr_schedule=schedule, lr_step=2, engine=engine, class_weight={"cow": 0.5})
    w = np.random.default_rng(2).integers(0, 3, len(Y)).astype(float)
    whole = TwoLayerNetClassifier(**params, epochs=5).fit(X, LABELS, sample_weight=w)
    parts = TwoLayerNetClassifier(**params, epochs=5)
    for _ in range(5):
        parts.partial_fit(X, LABELS, classes=["ant", "bee", "cow"], sample_weight=w)
    assert_same_fit(parts, whole)


def test_partial_fit_past_the_planned_epochs_extends_the_plan_one_epoch_at_a_time():
    est = TwoLayerNetClassifier(**SMALL, epochs=2, lr_schedule="cosine")
    for _ in range(4):
        est.partial_fit(X, LABELS, classes=np.unique(LABELS))
    lrs = [r["lr"] for r in est._state.history]
    assert lrs == [lr_at("cosine", 0.01, 0, 2), lr_at("cosine", 0.01, 1, 2)] + [
        lr_at("cosine", 0.01, e, e + 1) for e in (2, 3)
    ]
    assert est.n_iter_ == 4 and est.validation_loss_curve_ is None


def test_partial_fit_after_fit_goes_on_from_it():
    a = TwoLayerNetClassifier(**SMALL, epochs=3, lr_schedule="constant").fit(X, LABELS)
    a.partial_fit(X, LABELS).partial_fit(X, LABELS)
    b = TwoLayerNetClassifier(**SMALL, epochs=5, lr_schedule="constant").fit(X, LABELS)
    assert_same_fit(a, b)


def test_partial_fit_may_see_some_classes_only():
    est = TwoLayerNetClassifier(**SMALL)
    est.partial_fit(X[Y < 2], LABELS[Y < 2], classes=["ant", "bee", "cow"])
    est.partial_fit(X[Y == 2], LABELS[Y == 2])
    assert list(est.classes_) == ["ant", "bee", "cow"] and est.predict_proba(X).shape == (150, 3)


def test_a_loaded_model_goes_on_from_its_weights_with_a_fresh_optimizer(tmp_path):
    # plain SGD without shuffling has no state but the weights: the continuation is exact
    params = dict(SMALL, optimizer="sgd", shuffle=False, lr_schedule="constant")
    TwoLayerNetClassifier(**params, epochs=3).fit(X, LABELS).save(tmp_path / "m.npz")
    loaded = TwoLayerNetClassifier.load(tmp_path / "m.npz").set_params(warm_start=True, epochs=2)
    loaded.fit(X, LABELS)
    whole = TwoLayerNetClassifier(**params, epochs=5).fit(X, LABELS)
    for k in PARAM_NAMES:
        assert loaded.params_[k].tobytes() == whole.params_[k].tobytes(), k
    assert loaded.loss_curve_ == whole.loss_curve_[3:]  # a new run from those weights: 2 epochs
    again = TwoLayerNetClassifier.load(tmp_path / "m.npz").partial_fit(X, LABELS)
    assert again.n_iter_ == 1 and again.loss_curve_ == whole.loss_curve_[3:4]


def test_a_pickled_estimator_goes_on_exactly():
    import pickle

    est = TwoLayerNetClassifier(**SMALL, epochs=2, warm_start=True).fit(X, LABELS)
    copy = pickle.loads(pickle.dumps(est))
    est.fit(X, LABELS)
    copy.fit(X, LABELS)
    assert_same_fit(copy, est)


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda e: e.partial_fit(X, LABELS),
            "TwoLayerNetClassifier.partial_fit: pass classes (every label y will hold) on the first call",
        ),
        (
            lambda e: e.partial_fit(X, LABELS, classes=["ant", "bee"]),
            "TwoLayerNetClassifier.partial_fit: y holds the label(s) 'cow', which are not among "
            "classes_ 'ant', 'bee'",
        ),
        (
            lambda e: e.partial_fit(X, LABELS, classes=["ant", "bee", "cow"]).partial_fit(
                X, LABELS, classes=["ant", "bee", "cow", "dog"]
            ),
            "TwoLayerNetClassifier.partial_fit: classes 'ant', 'bee', 'cow', 'dog' differ from "
            "classes_ 'ant', 'bee', 'cow' of the first call",
        ),
        (
            lambda e: e.set_params(class_weight="balanced").partial_fit(
                X, LABELS, classes=["ant", "bee", "cow"]
            ),
            "class_weight='balanced' would count the classes of each call's rows alone",
        ),
        (
            lambda e: e.set_params(warm_start=True).fit(X[Y < 2], LABELS[Y < 2]).fit(X, LABELS),
            "TwoLayerNetClassifier.fit: y holds the label(s) 'cow', which are not among "
            "classes_ 'ant', 'bee'",
        ),
        (
            lambda e: e.set_params(warm_start=True).fit(X, LABELS).fit(X[:, :1], LABELS),
            "X has 1 features, but TwoLayerNetClassifier is expecting 2 features",
        ),
    ],
    ids=["no-classes", "label-not-in-classes", "other-classes", "balanced", "warm-new-class", "warm-width"],
)
def test_refusals_are_one_clear_value_error(call, message):
    with pytest.raises(ValueError) as e:
        call(TwoLayerNetClassifier(**SMALL, epochs=2))
    assert message in str(e.value) and "\n" not in str(e.value)
