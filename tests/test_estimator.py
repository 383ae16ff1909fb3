"""TwoLayerNetClassifier passes scikit-learn's own checks, trains by the CLI's core and loop, follows
random_state, and saves model files the CLI reads."""

import inspect
import json
import re
from dataclasses import asdict
from pathlib import Path
from unittest import SkipTest

import numpy as np
import pytest
from sklearn.datasets import make_blobs, make_moons
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.utils.estimator_checks import parametrize_with_checks

from trainer import TwoLayerNetClassifier, train
from trainer.cli import main
from trainer.config.load import load_config
from trainer.data.datasets import SEED_BOUND, DataConfig
from trainer.data.fitting import fit_scaler
from trainer.data.preprocess import standardize
from trainer.model.network import ModelConfig, init_params
from trainer.training.loop import TrainConfig, TrainState, loss_and_accuracy, optimize
from trainer.training.optim import make_optimizer

ROOT = Path(__file__).resolve().parents[1]

# The defaults, and two instances that reach the other paths: float32, full batch, no validation
# split, momentum; and nesterov, cosine schedule, no standardisation, early stopping on accuracy.
CHECKED = [
    TwoLayerNetClassifier(),
    TwoLayerNetClassifier(
        dtype="float32",
        optimizer="momentum",
        lr=0.05,
        batch_size=None,
        early_stopping=False,
        val_size=0.0,
        epochs=100,
    ),
    TwoLayerNetClassifier(
        optimizer="nesterov",
        lr=0.05,
        lr_schedule="cosine",
        init="xavier",
        batch_size=32,
        standardize=False,
        monitor="val_accuracy",
        patience=5,
        val_size=0.2,
    ),
    # full batch, no validation split, no scaler: integer sample weights are repeated rows
    TwoLayerNetClassifier(batch_size=None, standardize=False, lr=0.01),
]


def expected_failures(estimator):
    """The one check an instance may fail, and why; every other check must pass on every instance."""
    if estimator.batch_size is None and not estimator.standardize and not estimator.val_size:
        return {}
    why = (
        "sample weights equal repeated rows only with full batches, no validation split and no "
        "scaler: minibatches of repeated rows are other minibatches, and the scaler and the "
        "validation rows come from the rows, unweighted (the last instance checks it)"
    )
    return {"check_sample_weight_equivalence_on_dense_data": why}


@parametrize_with_checks(CHECKED, expected_failed_checks=expected_failures, xfail_strict=True)
def test_scikit_learn_estimator_checks(estimator, check):
    try:
        check(estimator)
    except SkipTest as e:  # a check that cannot run here (a missing package, an unset variable) is a failure
        pytest.fail(f"scikit-learn check skipped itself: {e}")


def test_constructor_defaults_are_the_config_defaults():
    defaults = {name: p.default for name, p in inspect.signature(TwoLayerNetClassifier).parameters.items()}
    data = DataConfig()
    # all but checkpoint_*: no run dir to checkpoint into
    train = {k: v for k, v in asdict(TrainConfig()).items() if not k.startswith("checkpoint_")}
    model = {k: v for k, v in asdict(ModelConfig()).items() if k != "init_from"}  # warm_start's job here
    expected = {
        **model,
        **train,
        "val_size": data.val_size,
        "standardize": data.standardize,
        "missing": data.missing,
        "unknown_category": data.unknown_category,
        "max_categories": data.max_categories,
        "categorical": None,  # the DataFrame columns to read as categories besides those holding text
        "random_state": None,
        "warm_start": False,
    }
    assert defaults == expected


def test_from_config_carries_every_model_and_train_key_and_the_seed():
    cfg = load_config(ROOT / "configs/moons.yaml", ["seed=5", "train.lr=0.02", "model.hidden_size=7"])
    params = TwoLayerNetClassifier.from_config(cfg).get_params()
    assert params["random_state"] == 5 and params["lr"] == 0.02 and params["hidden_size"] == 7
    assert params["reg"] == cfg.train.reg == 3e-4 and params["init"] == cfg.model.init == "he"
    assert {k: params[k] for k in asdict(cfg.model) if k != "init_from"} == {
        k: v for k, v in asdict(cfg.model).items() if k != "init_from"
    }
    train = {k: v for k, v in asdict(cfg.train).items() if not k.startswith("checkpoint_")}
    assert {k: params[k] for k in train} == train


def test_fit_is_the_cli_core_and_loop_on_one_generator():
    X, y = make_blobs(n_samples=120, centers=3, random_state=0)
    est = TwoLayerNetClassifier(
        hidden_size=8, epochs=15, batch_size=16, lr=0.01, early_stopping=False, val_size=0.0, random_state=7
    ).fit(X, y)
    # the same calls by hand, drawing from default_rng(random_state) in the documented order
    rng = np.random.default_rng(7)
    rng.integers(SEED_BOUND)  # the validation split's seed: drawn even when val_size is 0
    mean, scale = fit_scaler(X)
    params = init_params(2, 8, 3, rng, init=ModelConfig().init)
    cfg = TrainConfig(epochs=15, batch_size=16, lr=0.01, early_stopping=False)
    state = TrainState(params, make_optimizer("adam", params), rng)
    state = optimize(state, standardize(X, mean, scale), y, cfg)
    for k in params:
        assert np.array_equal(est.params_[k], state.params[k])
    assert est.loss_curve_ == [r["train_loss"] for r in state.history]
    assert est.n_iter_ == 15 and est.validation_loss_curve_ is None


def test_early_stopping_keeps_the_best_epoch_of_the_validation_curve():
    X, y = make_moons(n_samples=300, noise=0.3, random_state=1)
    est = TwoLayerNetClassifier(
        hidden_size=16,
        lr=0.05,
        batch_size=16,
        early_stopping=True,
        patience=3,
        min_delta=0.0,
        val_size=0.2,
        random_state=0,
    ).fit(X, y)
    curve = est.validation_loss_curve_
    assert est.n_iter_ == len(curve) == len(est.loss_curve_) == len(est.validation_scores_) < 200
    assert est.best_epoch_ == int(np.argmin(curve)) + 1 < est.n_iter_
    # the kept weights are the best epoch's: recreate the 60 held-out rows (20%, stratified, seeded by
    # the Generator's first draw) and their loss is the curve's minimum, bitwise
    rng = np.random.default_rng(0)
    _, val = train_test_split(
        np.arange(300), test_size=60, random_state=int(rng.integers(SEED_BOUND)), stratify=y
    )
    Xv = standardize(X[val], est.scaler_mean_, est.scaler_scale_)
    assert loss_and_accuracy(est.params_, Xv, y[val])[0] == min(curve)


def test_validation_rows_are_counted_and_cut_as_trainer_train_cuts_them():
    X, y = make_blobs(n_samples=92, centers=2, random_state=4)
    est = TwoLayerNetClassifier(hidden_size=4, epochs=3, val_size=0.1, random_state=5).fit(X, y)
    # 0.1 * 92 = 9.2 rows: 9 (rounded half up, as data.prepare.split counts; not ceil's 10), stratified
    seed = int(np.random.default_rng(5).integers(SEED_BOUND))
    _, val = train_test_split(np.arange(92), test_size=9, random_state=seed, stratify=y)
    Xv = standardize(X[val], est.scaler_mean_, est.scaler_scale_)
    assert loss_and_accuracy(est.params_, Xv, y[val])[0] == est.validation_loss_curve_[-1]


def test_a_validation_split_that_cannot_be_stratified_is_a_value_error():
    X, y = make_blobs(n_samples=30, centers=2, random_state=0)
    y[:] = 0
    y[0] = 1  # one row of class 1: it cannot reach both sides
    with pytest.raises(
        ValueError, match=r"^TwoLayerNetClassifier: val_size=0.2: cannot split 30 rows stratified: .*1 member"
    ):
        TwoLayerNetClassifier(epochs=1, val_size=0.2).fit(X, y)


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"lr": -1}, "TwoLayerNetClassifier: lr: expected a number > 0, got -1.0"),
        ({"lr": np.float64(-1.0)}, "TwoLayerNetClassifier: lr: expected a number > 0, got -1.0"),
        (
            {"optimizer": "adamw"},
            "TwoLayerNetClassifier: optimizer: expected one of sgd, momentum, nesterov, adam, got 'adamw'",
        ),
        ({"hidden_size": 2.5}, "TwoLayerNetClassifier: hidden_size: expected an integer, got float 2.5"),
        ({"dtype": "float16"}, "TwoLayerNetClassifier: dtype: expected float64 or float32"),
        (
            {"val_size": 0.0, "early_stopping": True},
            "TwoLayerNetClassifier: monitor: 'val_loss' needs a validation split, but val_size is 0 "
            "(monitor train_loss, or set val_size)",
        ),
        ({"random_state": "seed"}, "cannot be used to seed"),
    ],
)
def test_bad_parameters_raise_value_error_naming_the_parameter_at_fit(params, expected):
    est = TwoLayerNetClassifier(epochs=2, **params)  # constructing never checks (scikit-learn's rule)
    with pytest.raises(ValueError) as e:
        est.fit(*make_moons(n_samples=40, random_state=0))
    assert expected in str(e.value) and "\n" not in str(e.value)
    assert not any(f"{section}." in str(e.value) for section in ("model", "train", "data"))


def test_one_class_is_named_as_the_label_it_is_not_as_a_numpy_repr():
    X, _ = make_moons(n_samples=40, random_state=0)
    with pytest.raises(ValueError) as e:
        TwoLayerNetClassifier(epochs=1).fit(X, np.zeros(40))
    assert str(e.value).endswith("y holds only one class (0.0)")


def test_integral_numbers_are_integers_as_in_a_config():
    X, y = make_moons(n_samples=40, random_state=0)
    est = TwoLayerNetClassifier(epochs=2.0, hidden_size="8", batch_size=np.float64(16), random_state=0).fit(
        X, y
    )
    assert est.n_iter_ == 2 and est.params_["W1"].shape == (2, 8)


def test_numpy_scalars_from_a_grid_are_accepted():
    est = TwoLayerNetClassifier(
        hidden_size=np.int64(4), lr=np.float32(0.01), epochs=np.int64(2), random_state=0
    )
    assert est.fit(*make_moons(n_samples=40, random_state=0)).params_["W1"].shape == (2, 4)


def test_random_state_int_repeats_none_and_random_state_instances_advance():
    X, y = make_moons(n_samples=80, noise=0.2, random_state=0)

    def weights(est):
        return est.fit(X, y).params_["W1"].copy()

    small = {"hidden_size": 4, "epochs": 3}
    assert np.array_equal(
        weights(TwoLayerNetClassifier(**small, random_state=3)),
        weights(TwoLayerNetClassifier(**small, random_state=3)),
    )
    shared = TwoLayerNetClassifier(**small, random_state=np.random.RandomState(3))
    first, second = weights(shared), weights(shared)
    assert not np.array_equal(first, second)  # one seed drawn from the RandomState per fit
    assert np.array_equal(
        first, weights(TwoLayerNetClassifier(**small, random_state=np.random.RandomState(3)))
    )
    unseeded = TwoLayerNetClassifier(**small)
    assert not np.array_equal(weights(unseeded), weights(unseeded))


def test_grid_search_scores_do_not_depend_on_n_jobs():
    X, y = make_moons(n_samples=200, noise=0.3, random_state=0)
    grid = {"lr": [0.003, 0.1], "hidden_size": [4, 32]}
    est = TwoLayerNetClassifier(epochs=20, random_state=0)
    one, two = (GridSearchCV(est, grid, cv=3, n_jobs=n).fit(X, y).cv_results_ for n in (1, 2))
    scored = [k for k in one if re.match(r"(split\d+|mean|std|rank)_test_score", k)]
    assert len(scored) == 6
    for k in scored:
        assert np.array_equal(one[k], two[k]), k
    assert len(set(one["mean_test_score"])) > 1  # the grid points differ, so equality says something


def _fitted(labels, dtype):
    pd = pytest.importorskip("pandas")  # the dev extra installs pandas; the estimator checks need it too
    X, y = make_blobs(n_samples=150, centers=3, random_state=2)
    frame = pd.DataFrame(X, columns=["width", "height"])
    est = TwoLayerNetClassifier(hidden_size=8, epochs=30, lr=0.01, dtype=dtype, random_state=0)
    return est.fit(frame, np.asarray(labels)[y]), frame, np.asarray(labels)[y]


@pytest.mark.parametrize(
    "labels, dtype", [(["setosa", "versicolor", "virginica"], "float64"), ([3, 5, 8], "float32")]
)
def test_save_load_round_trips_predictions_exactly(tmp_path, labels, dtype):
    est, X, _ = _fitted(labels, dtype)
    est.save(tmp_path / "m.npz")
    back = TwoLayerNetClassifier.load(tmp_path / "m.npz")
    assert np.array_equal(back.predict_proba(X), est.predict_proba(X))
    assert back.predict_proba(X).dtype == np.dtype(dtype)
    assert np.array_equal(back.predict(X), est.predict(X)) and back.predict(X).dtype == est.predict(X).dtype
    assert np.array_equal(back.predict_log_proba(X), est.predict_log_proba(X))
    assert back.get_params() == est.get_params()
    assert list(back.feature_names_in_) == ["width", "height"] == list(est.feature_names_in_)
    assert (back.n_iter_, back.best_epoch_, back.loss_curve_, back.validation_loss_curve_) == (
        est.n_iter_,
        est.best_epoch_,
        est.loss_curve_,
        est.validation_loss_curve_,
    )


def test_a_saved_estimator_is_evaluated_by_the_cli_on_a_csv(tmp_path, capsys):
    est, X, y = _fitted(["a", "b", "c"], "float64")
    est.save(tmp_path / "m.npz")
    rows = ["label,height,width"]
    rows += [f"{c},{h!r},{w!r}" for c, w, h in zip(y, X["width"], X["height"], strict=True)]
    (tmp_path / "d.csv").write_text("\n".join(rows) + "\n")  # columns reordered: matched by name
    assert (
        main(
            [
                "evaluate",
                str(tmp_path / "m.npz"),
                "--csv",
                str(tmp_path / "d.csv"),
                "--target",
                "label",
                "--json",
            ]
        )
        == 0
    )
    report = json.loads(capsys.readouterr().out)
    assert report["accuracy"] == est.score(X, y) and report["n_samples"] == 150


@pytest.mark.parametrize("labels", [[False, True], [-1.0, 2.0, 7.0]])
def test_bool_and_float_labels_survive_save_load_and_cli_evaluate(tmp_path, capsys, labels):
    X, y = make_blobs(n_samples=90, centers=len(labels), random_state=3)
    y = np.asarray(labels)[y]
    est = TwoLayerNetClassifier(hidden_size=8, epochs=20, lr=0.01, random_state=0).fit(X, y)
    est.save(tmp_path / "m.npz")
    back = TwoLayerNetClassifier.load(tmp_path / "m.npz")
    assert back.classes_.dtype == est.classes_.dtype == y.dtype and back.classes_.tolist() == labels
    assert np.array_equal(back.predict(X), est.predict(X)) and back.score(X, y) == est.score(X, y)
    # labels as str() writes them
    rows = ["x0,x1,label"] + [f"{a:.17g},{b:.17g},{c}" for (a, b), c in zip(X, y, strict=True)]
    (tmp_path / "d.csv").write_text("\n".join(rows) + "\n")
    assert (
        main(
            [
                "evaluate",
                str(tmp_path / "m.npz"),
                "--csv",
                str(tmp_path / "d.csv"),
                "--target",
                "label",
                "--json",
            ]
        )
        == 0
    )
    report = json.loads(capsys.readouterr().out)
    assert report["classes"] == labels and report["accuracy"] == est.score(X, y)


def test_cli_evaluate_without_csv_says_there_is_no_dataset_in_one_line(tmp_path, capsys):
    est, _, _ = _fitted(["a", "b", "c"], "float64")
    est.save(tmp_path / "m.npz")
    assert main(["evaluate", str(tmp_path / "m.npz")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "fitted on arrays" in err and "--csv FILE" in err


def test_a_model_trained_by_the_cli_loads_as_a_fitted_estimator(tmp_path):
    cfg = load_config(ROOT / "configs/moons.yaml", ["train.epochs=5", "data.params.n_samples=200"])
    result = train(cfg, tmp_path / "run")
    est = TwoLayerNetClassifier.load(tmp_path / "run" / "model.npz")
    X, _ = make_moons(n_samples=50, noise=0.3, random_state=9)
    assert np.array_equal(est.predict_proba(X), result.model.predict_proba(X))
    assert np.array_equal(est.predict(X), np.asarray(result.model.classes)[result.model.predict(X)])
    assert est.random_state == cfg.seed and est.lr == cfg.train.lr and est.n_iter_ == result.state.epoch


def test_the_estimator_page_snippets_run(tmp_path, monkeypatch):
    text = (ROOT / "docs/estimator.md").read_text()
    snippets = re.findall(r"```python\n(.*?)```", text, re.DOTALL)
    assert len(snippets) >= 2
    monkeypatch.chdir(tmp_path)
    namespace = {}
    for code in snippets:
        exec(compile(code, "docs/estimator.md", "exec"), namespace)  # noqa: S102 (our own manual)
    assert (tmp_path / "best.npz").exists()


def test_a_dataframe_is_matched_by_column_name_as_a_csv_header_is():
    pd = pytest.importorskip("pandas")
    X, y = make_blobs(n_samples=120, n_features=3, centers=3, random_state=4)
    X = X * [1.0, 10.0, 100.0]  # swapped columns would change the predictions
    frame = pd.DataFrame(X, columns=["width", "height", "depth"])
    est = TwoLayerNetClassifier(hidden_size=8, epochs=20, lr=0.01, random_state=0).fit(frame, y)
    expected = est.predict_proba(frame)
    moved = frame[["depth", "width", "height"]].assign(notes=1.0)
    assert np.array_equal(est.predict_proba(moved), expected)
    assert est.score(moved, y) == est.score(frame, y)
    assert not np.array_equal(
        est.predict_proba(frame.set_axis(["height", "width", "depth"], axis=1)), expected
    )
    with pytest.raises(
        ValueError, match=r"missing 1 of the model's 3 feature columns: 'height' — did you mean 'Height'\?"
    ):
        est.predict(frame.rename(columns={"height": "Height"}))
    with pytest.raises(ValueError, match="X has more than one column named 'depth'"):
        est.predict(pd.concat([frame, frame[["depth"]]], axis=1))


def test_a_model_trained_on_a_named_csv_loads_with_its_feature_names(tmp_path):
    pd = pytest.importorskip("pandas")
    result = train(load_config(ROOT / "configs/csv_example.yaml", ["train.epochs=2"]), tmp_path / "run")
    est = TwoLayerNetClassifier.load(tmp_path / "run/model.npz")
    assert list(est.feature_names_in_) == result.model.feature_names
    frame = pd.read_csv(ROOT / "data/example.csv")
    reversed_ = frame[frame.columns[::-1]]
    assert np.array_equal(
        est.predict_proba(reversed_), result.model.predict_proba(frame[result.model.feature_names])
    )
