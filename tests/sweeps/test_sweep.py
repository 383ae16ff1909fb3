"""trainer sweep: the same results on every backend, the CLI's own runs, ranking, one-line errors."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import cli
from threadpoolctl import threadpool_info, threadpool_limits

import trainer.sweeps.trial
import trainer.training.loop
from trainer import train
from trainer.cli import main
from trainer.config.load import load_config
from trainer.errors import ConfigError
from trainer.sweeps import grid
from trainer.sweeps.jobs import ONE_BLAS_THREAD, run_jobs

TINY = """\
name: tiny
data:
  dataset: moons
  params: {n_samples: 200, noise: 0.3}
  val_size: 0.1
train:
  epochs: 15
  batch_size: 32
  early_stopping: true
  patience: 5
"""
GRID = ["--grid", "train.lr=0.01,0.1", "--grid", "model.hidden_size=4,16"]
SWEEP = ["sweep", "--no-plots"]  # the command; its pictures are tests/pictures/test_sweep_plots.py's
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def tiny(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY)
    return path


def comparable(out):
    """Everything a sweep wrote, less fit times and best.yaml's comment lines."""
    results = json.loads((out / "results.json").read_text())
    for t in results["trials"]:
        t.pop("fit_time")
    rows = list(csv.reader((out / "results.csv").read_text().splitlines()))
    drop = rows[0].index("fit_time")
    table = [row[:drop] + row[drop + 1 :] for row in rows]
    best = [line for line in (out / "best.yaml").read_text().splitlines() if not line.startswith("#")]
    return results, table, best


def trials_of(config, items=GRID[1::2]):
    return grid.expand(config, grid.parse_grid(items))


def outcome(ranked):
    return [(t.params, t.scores, t.losses, t.error, t.rank) for t in ranked]


def test_cross_validated_sweep_is_identical_on_loky_threading_and_a_local_dask_cluster(tmp_path, tiny):
    files = {}
    for backend in ("loky", "threading", "dask"):
        if backend == "dask":
            pytest.importorskip("distributed")  # the dask extra (in dev) provides it
        # two jobs at once; for dask that is a local cluster of two worker processes on 127.0.0.1
        ranked = grid.run_trials(trials_of(tiny), cv=2, n_jobs=2, backend=backend)
        grid.write_results(tmp_path / backend, ranked, tiny, 2)
        files[backend] = comparable(tmp_path / backend)
    assert files["loky"] == files["threading"] == files["dask"]
    trials = files["loky"][0]["trials"]
    assert len(trials) == 4 and all(len(t["val_scores"]) == 2 for t in trials)
    # the grid points differ, so equality says something
    assert len({t["mean_val_score"] for t in trials}) > 1


def test_validation_split_sweep_does_not_depend_on_n_jobs_and_its_best_trains_to_the_same_score(
    tmp_path, tiny
):
    alone = grid.run_trials(trials_of(tiny), n_jobs=1)
    threads = grid.run_trials(trials_of(tiny), n_jobs=2, backend="threading")
    assert outcome(alone) == outcome(threads)
    best = grid.write_results(tmp_path / "out", alone, tiny, None)
    again = train(load_config(tmp_path / "out" / "best.yaml"), tmp_path / "again")
    assert again.summary["val"]["accuracy"] == best.mean  # a trial is `trainer train`'s own run


def test_sweep_on_an_existing_dask_scheduler(tiny):
    distributed = pytest.importorskip("distributed")
    # one in-process worker with two threads: trials share a process, as on a multi-threaded worker
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
    ) as cluster:
        on_cluster = grid.run_trials(trials_of(tiny), backend="dask", scheduler=cluster.scheduler_address)
    assert outcome(on_cluster) == outcome(grid.run_trials(trials_of(tiny)))


def test_results_files_are_ranked_and_a_diverged_trial_is_recorded_last(tmp_path, tiny, capsys):
    out = tmp_path / "out"
    argv = [
        *SWEEP,
        str(tiny),
        "--grid",
        "train.lr=0.1,1e9",
        "--set",
        "train.optimizer=sgd",
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "failed" in printed and str(out / "best.yaml") in printed
    results = json.loads((out / "results.json").read_text())
    first, last = results["trials"]
    assert (first["rank"], first["params"], first["error"]) == (1, {"train.lr": 0.1}, None)
    assert last["rank"] == 2 and last["mean_val_score"] is None and "diverged" in last["error"]
    rows = list(csv.DictReader((out / "results.csv").read_text().splitlines()))
    assert [r["train.lr"] for r in rows] == ["0.1", "1000000000.0"] and rows[1]["mean_val_score"] == ""
    assert load_config(out / "best.yaml").train.lr == 0.1


def test_every_trial_diverging_exits_3_and_writes_nothing(tmp_path, tiny, capsys):
    argv = [
        "sweep",
        str(tiny),
        "--grid",
        "train.lr=1e9,1e10",
        "--set",
        "train.optimizer=sgd",
        "--out",
        str(tmp_path / "o"),
    ]
    assert main(argv) == 3
    assert "every trial failed" in capsys.readouterr().err and not (tmp_path / "o").exists()


def test_an_earlier_sweep_is_not_overwritten(tmp_path, tiny, capsys):
    argv = [*SWEEP, str(tiny), "--grid", "train.epochs=1", "--out", str(tmp_path / "o"), "-q"]
    assert main(argv) == 0
    before = (tmp_path / "o" / "results.json").read_text()
    assert main(argv) == 1
    assert "already holds a sweep" in capsys.readouterr().err
    assert (tmp_path / "o" / "results.json").read_text() == before
    assert main([*argv, "--overwrite"]) == 0


@pytest.mark.parametrize(
    "args, code, expected",
    [
        (["--grid", "train.lr"], 2, "--grid train.lr: expected KEY=V1,V2,... with no empty value"),
        (["--grid", "train.lr=0.1,,1"], 2, "--grid train.lr=0.1,,1: expected KEY=V1,V2,..."),
        (["--grid", "=1,2"], 2, "--grid =1,2: expected KEY=V1,V2,..."),
        (
            ["--grid", "train.lrr=0.1,1"],
            2,
            "--grid train.lrr=0.1,1: unknown key 'train.lrr' — did you mean 'train.lr'?",
        ),
        (
            ["--grid", "train.lr=-1,0.1"],
            2,
            "--grid train.lr=-1,0.1: train.lr: expected a number > 0, got -1.0",
        ),
        (
            ["--grid", "model.hidden_size=8,abc"],
            2,
            "--grid model.hidden_size=8,abc: model.hidden_size: expected an integer, got str 'abc'",
        ),
        (
            ["--grid", "data.params.nois=0.1"],
            2,
            "--grid data.params.nois=0.1: unknown key 'data.params.nois' for dataset 'moons' "
            "— did you mean 'data.params.noise'?",
        ),
        (
            ["--grid", "data.test_size=0.5", "--grid", "data.val_size=0.6"],
            2,
            "--grid data.test_size=0.5, --grid data.val_size=0.6: data.test_size + data.val_size must be < 1",
        ),
        (["--grid", "train.lr=0.1", "--grid", "train.lr=0.2"], 2, "'train.lr' is already given by --grid"),
        (
            ["--grid", "train.lr=0.1", "--scheduler", "tcp://127.0.0.1:8786"],
            2,
            "only used with --backend dask",
        ),
        (["--grid", "train.lr=0.1", "--backend", "spark"], 2, "invalid choice: 'spark'"),
        (["--grid", "train.lr=0.1", "--n-jobs", "0"], 2, "--n-jobs: must be a positive number of jobs"),
        (["--grid", "train.lr=0.1", "--cv", "1"], 2, "--cv: must be an integer >= 2"),
        (
            ["--grid", "train.lr=0.1", "--cv", "90"],
            1,
            "90-fold cross-validation on 160 train and validation rows: "
            "n_splits=90 cannot be greater than the number of members in each class",
        ),
    ],
)
def test_bad_sweeps_fail_in_one_line_and_write_nothing(tmp_path, tiny, capsys, args, code, expected):
    assert main(["sweep", str(tiny), "--out", str(tmp_path / "o"), *args]) == code
    err = capsys.readouterr().err
    assert expected in err and err.count("\n") == 1
    assert not (tmp_path / "o").exists()


def test_a_config_without_a_validation_split_is_cross_validated_in_5_folds_and_says_so(tmp_path, capsys):
    iris = ROOT / "configs/iris.yaml"
    assert load_config(iris).data.val_size == 0
    assert main([*SWEEP, str(iris), "--grid", "train.lr=0.001,0.01", "--out", str(tmp_path / "default")]) == 0
    printed = capsys.readouterr().out
    assert (
        "scored by mean accuracy over 5-fold stratified cross-validation: the default, as data.val_size is 0"
        in printed
    )
    results = json.loads((tmp_path / "default" / "results.json").read_text())
    assert results["cv"] == 5 and [len(t["val_scores"]) for t in results["trials"]] == [5, 5]
    assert (
        main(
            [
                *SWEEP,
                str(iris),
                "--grid",
                "train.lr=0.001,0.01",
                "--cv",
                "5",
                "--out",
                str(tmp_path / "cv5"),
                "-q",
            ]
        )
        == 0
    )
    assert comparable(tmp_path / "default") == comparable(tmp_path / "cv5")  # the default is --cv 5


def test_scoring_is_one_way_for_every_trial_and_says_why(tiny):
    with_val, mixed = trials_of(tiny), trials_of(ROOT / "configs/moons.yaml", items=["data.val_size=0,0.1"])
    assert grid.scoring(with_val) == (None, "accuracy on each trial's validation split (data.val_size)")
    assert grid.scoring(with_val, cv=3) == (
        3,
        "mean accuracy over 3-fold stratified cross-validation (--cv 3)",
    )
    cv, how = grid.scoring(mixed)  # one trial has no validation split: all are cross-validated, to compare
    assert cv == grid.DEFAULT_CV == 5 and "the default, as data.val_size is 0 in 1 of 2 trials" in how


def test_dask_backend_without_dask_says_which_extra_to_install(tmp_path, tiny, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # from here `import distributed` raises ImportError
    assert (
        main(
            ["sweep", str(tiny), "--grid", "train.lr=0.1", "--backend", "dask", "--out", str(tmp_path / "o")]
        )
        == 1
    )
    assert (
        capsys.readouterr().err
        == f"trainer: error: --backend dask needs dask.distributed: {sys.executable} -m pip install "
        "'dask[distributed]>=2023.1'\n"
    )


def test_rank_breaks_accuracy_ties_by_loss_then_grid_order_and_puts_chance_then_failures_last(tiny):
    trials = trials_of(tiny, items=["train.lr=0.1,0.2,0.3,0.4,0.5,0.6"])
    outcomes = [
        ([0.9], [0.3], False, None),
        ([], [], False, "diverged"),
        ([0.9], [0.2], False, None),
        ([0.8], [0.1], False, None),
        ([0.9], [0.3], False, None),
        ([0.95], [0.05], True, None),  # the best scores, but at chance level on its training rows
    ]
    for t, (scores, losses, chance, error) in zip(trials, outcomes, strict=True):
        t.scores, t.losses, t.chance, t.error = scores, losses, chance, error
    ranked = grid.rank(trials)
    assert [(t.params["train.lr"], t.rank) for t in ranked] == [
        (0.3, 1),
        (0.1, 2),
        (0.5, 2),
        (0.4, 4),
        (0.6, 5),
        (0.2, 6),
    ]


def sweep_in_process(tiny, out, *args):
    return main([*SWEEP, str(tiny), "--grid", "train.lr=0.01,1000", "--out", str(out), *args])


def test_a_dead_trial_is_marked_and_never_chosen(tmp_path, tiny, capsys):
    assert sweep_in_process(tiny, tmp_path / "o") == 0
    printed = capsys.readouterr()
    row = next(line for line in printed.out.splitlines() if line.startswith("2 "))  # lr 1000's
    assert "1 of 2 trials at chance level" in printed.out and row.endswith("chance level")
    assert printed.err == ""
    rows = list(csv.DictReader((tmp_path / "o/results.csv").read_text().splitlines()))
    assert [(r["train.lr"], r["chance"]) for r in rows] == [("0.01", "false"), ("1000.0", "true")]
    assert json.loads((tmp_path / "o/results.json").read_text())["trials"][1]["chance"] is True
    assert load_config(tmp_path / "o/best.yaml").train.lr == 0.01


def test_a_chance_trial_scoring_best_is_not_chosen(tmp_path, tiny, monkeypatch):
    validate = trainer.sweeps.trial._validate

    def dead_but_lucky(cfg, keep_models):  # lr 1000 scores 1.0 on the validation split, at chance
        outcome = validate(cfg, keep_models)
        return {**outcome, "scores": [1.0], "chance": True} if cfg.train.lr == 1000 else outcome

    monkeypatch.setattr(trainer.sweeps.trial, "_validate", dead_but_lucky)
    assert sweep_in_process(tiny, tmp_path / "o", "-q") == 0
    results = json.loads((tmp_path / "o/results.json").read_text())
    assert [(t["params"]["train.lr"], t["mean_val_score"], t["rank"]) for t in results["trials"]] == [
        (0.01, results["trials"][0]["mean_val_score"], 1),
        (1000.0, 1.0, 2),
    ]
    assert load_config(tmp_path / "o/best.yaml").train.lr == 0.01


def test_a_sweep_where_every_trial_is_at_chance_says_so(tmp_path, tiny, capsys):
    args = ["--grid", "train.lr=1000,3000", "-q"]
    assert main([*SWEEP, str(tiny), *args, "--out", str(tmp_path / "o")]) == 0
    err = capsys.readouterr().err
    assert err.startswith("trainer: warning: every trial is at chance level ") and err.count("\n") == 1
    assert "every trial is at chance level" in (tmp_path / "o/best.yaml").read_text().splitlines()[1]
    assert main([*SWEEP, str(tiny), *args, "--out", str(tmp_path / "o4"), "--fail-on-chance"]) == 4
    assert capsys.readouterr().err.endswith("(--fail-on-chance)\n") and (tmp_path / "o4/best.yaml").exists()


def test_a_trial_failing_with_any_error_is_recorded_and_the_sweep_goes_on_to_exit_1(
    tmp_path, tiny, capsys, monkeypatch
):
    validate = trainer.sweeps.trial._validate

    def broken(cfg, keep_models):
        if cfg.train.lr == 1000:
            raise RuntimeError("out of luck\nsecond line")
        return validate(cfg, keep_models)

    monkeypatch.setattr(trainer.sweeps.trial, "_validate", broken)
    assert sweep_in_process(tiny, tmp_path / "o", "-q") == 1
    assert capsys.readouterr().err == (
        "trainer: error: 1 of 2 trials failed (train.lr=1000.0: RuntimeError: out of luck); "
        "results.json holds their errors\n"
    )
    last = json.loads((tmp_path / "o/results.json").read_text())["trials"][-1]
    assert (last["rank"], last["error"], last["mean_val_score"]) == (2, "RuntimeError: out of luck", None)
    assert load_config(tmp_path / "o/best.yaml").train.lr == 0.01


def test_keep_models_keeps_each_fit_and_they_are_the_trials_own(tmp_path, tiny):
    from trainer import evaluate_model, load_model

    out = tmp_path / "o"
    assert (
        main([*SWEEP, str(tiny), "--grid", "train.lr=0.01,0.1", "--keep-models", "--out", str(out), "-q"])
        == 0
    )
    trials = {t["params"]["train.lr"]: t for t in json.loads((out / "results.json").read_text())["trials"]}
    assert trials[0.1]["models"] == ["models/trial-2.npz"] and sorted(
        p.name for p in (out / "models").iterdir()
    ) == [
        "trial-1.npz",
        "trial-2.npz",
    ]
    model = load_model(out / "models/trial-2.npz")  # `trainer train`'s run of the trial: its test split too
    assert (
        model.config["train"]["lr"] == 0.1
        and model.summary["val"]["accuracy"] == trials[0.1]["val_scores"][0]
    )
    assert evaluate_model(model)["accuracy"] == model.summary["test"]["accuracy"]
    cv = tmp_path / "cv"
    argv = [
        *SWEEP,
        str(tiny),
        "--grid",
        "train.lr=0.01,0.1",
        "--cv",
        "2",
        "--keep-models",
        "--out",
        str(cv),
        "-q",
    ]
    assert main(argv) == 0
    first = json.loads((cv / "results.json").read_text())["trials"][0]
    assert len(first["models"]) == 2 and all(load_model(cv / m).n_classes == 2 for m in first["models"])
    assert sorted(p.name for p in (cv / "models").iterdir())[:2] == [
        "trial-1-fold-1.npz",
        "trial-1-fold-2.npz",
    ]


def test_a_kept_model_started_from_a_saved_one_names_its_parent_as_a_run_does(tmp_path, tiny):
    from trainer import load_model
    from trainer.storage.modelfile import checksum

    assert main(["train", str(tiny), "--out", str(tmp_path / "parent"), "-q", "--no-plots"]) == 0
    parent = tmp_path / "parent/model.npz"
    start = ["--set", f"model.init_from={parent}"]
    argv = [
        *SWEEP,
        str(tiny),
        "--grid",
        "train.lr=0.1",
        *start,
        "--keep-models",
        "--out",
        str(tmp_path / "o"),
    ]
    assert main([*argv, "-q"]) == 0
    kept = load_model(tmp_path / "o/models/trial-1.npz")
    assert (
        main(
            [
                "train",
                str(tiny),
                "--init-from",
                str(parent),
                "--set",
                "train.lr=0.1",
                "--out",
                str(tmp_path / "r"),
                "-q",
                "--no-plots",
            ]
        )
        == 0
    )
    run = load_model(tmp_path / "r/model.npz")
    assert kept.parent_sha256 == run.parent_sha256 == checksum(load_model(parent))
    assert all((kept.params[k] == run.params[k]).all() for k in run.params)  # the run the trial is


def test_grid_values_are_resolved_yaml_scalars_in_parameter_grid_order(tiny):
    trials = trials_of(tiny, items=["train.batch_size=null,16", "train.lr=1e-3,1"])
    assert [t.params for t in trials] == [
        {"train.batch_size": None, "train.lr": 0.001},
        {"train.batch_size": None, "train.lr": 1.0},
        {"train.batch_size": 16, "train.lr": 0.001},
        {"train.batch_size": 16, "train.lr": 1.0},
    ]
    assert [(t.config.train.batch_size, t.config.train.lr) for t in trials] == [
        (None, 0.001),
        (None, 1.0),
        (16, 0.001),
        (16, 1.0),
    ]
    assert [t.params for t in trials_of(tiny, items=["data.params.noise=0.1,0.2"])] == [
        {"data.params.noise": 0.1},
        {"data.params.noise": 0.2},
    ]


def _blas_threads():
    return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]


def test_jobs_run_blas_on_one_thread_until_the_last_one_in_the_process_ends():
    with threadpool_limits(limits=2, user_api="blas"):
        before = _blas_threads()
        assert before and set(before) == {2}
        with ONE_BLAS_THREAD:
            with ONE_BLAS_THREAD:  # a second job in the same process
                pass
            assert set(_blas_threads()) == {1}  # the second job's end did not lift the first one's limit
        assert _blas_threads() == before
        # threads run the jobs; joblib sets no limit for them (for loky workers it sets its own)
        seen = dict(run_jobs(_blas_threads, [()] * 4, n_jobs=2, backend="threading"))
        assert seen == {i: [1] * len(before) for i in range(4)}
        assert _blas_threads() == before


def test_jobs_run_refuses_an_unknown_backend():
    with pytest.raises(ConfigError, match="unknown backend 'spark'"):
        list(run_jobs(_blas_threads, [()], backend="spark"))


def test_trials_run_blas_on_one_thread_whatever_train_threads_says(tiny, monkeypatch):
    # train.threads sets a process-wide limit inside the job: one job in this process (n_jobs 1)
    # would lift the sweep's limit to 2 threads, and threads running trials would undo each other's
    seen, one_epoch = set(), trainer.training.loop.one_epoch
    monkeypatch.setattr(
        trainer.training.loop,
        "one_epoch",
        lambda *a, **k: seen.add(tuple(_blas_threads())) or one_epoch(*a, **k),
    )
    trials = grid.expand(tiny, grid.parse_grid(["train.lr=0.01,0.1"]), ["train.threads=2", "train.epochs=2"])
    for n_jobs, backend in (
        (1, "loky"),
        (2, "threading"),
    ):  # the trials run in this process: the spy sees them
        for cv in (None, 2):  # trainer train's run, and the estimator in cross-validation
            grid.run_trials(trials, cv=cv, n_jobs=n_jobs, backend=backend)
    assert seen == {(1,) * len(_blas_threads())}
    assert all(t.config.train.threads == 2 for t in trials)  # best.yaml keeps the setting for `trainer train`


def test_the_backend_choices_are_jobs_backends_and_reading_them_imports_no_joblib():
    code = (
        "import sys; from trainer.cli import build_parser; from trainer.sweeps.jobs import BACKENDS; "
        "sweep = build_parser()._subparsers._group_actions[0].choices['sweep']; "
        "[choices] = [a.choices for a in sweep._actions if a.dest == 'backend']; "
        "assert choices == list(BACKENDS), choices; assert 'joblib' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_cross_validated_sweep_imputes_each_fold_from_its_own_training_rows(tmp_path):
    lines = (ROOT / "data/example.csv").read_text().splitlines()
    rows = [line.split(",") for line in lines[1:]]
    for r in rows[::9]:
        r[2] = ""
    (tmp_path / "holed.csv").write_text("\n".join([lines[0], *(",".join(r) for r in rows)]) + "\n")
    config = tmp_path / "holed.yaml"
    config.write_text(
        "data: {dataset: csv, path: holed.csv, target: label, missing: median}\ntrain: {epochs: 3}\n"
    )
    ranked = grid.run_trials(grid.expand(config, grid.parse_grid(["train.lr=0.01"])), cv=3, n_jobs=1)
    assert ranked[0].error is None and len(ranked[0].scores) == 3 and min(ranked[0].scores) > 0.5
    from trainer.storage.modelfile import model_from_bytes

    kept = trainer.sweeps.trial.run_trial(load_config(config), 3, keep_models=True)["models"]
    fills = [model_from_bytes(m).prep.fill for m in kept]  # each fold's imputer, from its own rows
    assert all(f is not None for f in fills) and len({f.tobytes() for f in fills}) == 3
    config.write_text(config.read_text().replace("median", "error"))
    (failed,) = grid.run_trials(grid.expand(config, grid.parse_grid(["train.lr=0.01"])), cv=3, n_jobs=1)
    assert (
        failed.failed == "error"
        and "holed.csv:2: column 'sugar_pct': missing value (an empty cell" in failed.error
    )


def test_a_sweep_over_seeds_scores_each_trial_by_its_mean_over_the_seeds(tiny):
    ranked = grid.run_trials(trials_of(tiny), seeds=[0, 4, 7])
    threads = grid.run_trials(trials_of(tiny), n_jobs=2, backend="threading", seeds=[0, 4, 7])
    assert outcome(ranked) == outcome(threads)
    for trial in ranked:
        assert trial.seeds == [0, 4, 7] and len(trial.scores) == 3
        items = [f"{k}={v}" for k, v in trial.params.items()]
        for seed, score in zip(trial.seeds, trial.scores, strict=True):
            alone = grid.expand(tiny, grid.parse_grid([], []), [*items, f"seed={seed}"])
            assert grid.run_trials(alone)[0].scores == [score]  # each seed is the trial's own run
        assert trial.mean == pytest.approx(sum(trial.scores) / 3)
        assert trial.std == pytest.approx(float(np.std(trial.scores, ddof=1)))
    means = [t.mean for t in ranked]
    assert means == sorted(means, reverse=True)


def test_seeds_and_a_grid_over_the_seed_do_not_mix(tmp_path, tiny, capsys):
    code = main(["sweep", str(tiny), "--grid", "seed=1,2", "--seeds", "3", "--out", str(tmp_path / "s")])
    assert code == 2 and "given by --seeds" in capsys.readouterr().err
    assert not (tmp_path / "s").exists()


def _weighted_csv(tmp_path, weight_of):
    """A CSV of separable classes 'a' and 'b', a weight column w = weight_of(label); its config."""
    rows = [
        f"{(i % 2) * 3 + 0.1 * (i % 7)},{0.05 * (i % 11)},{weight_of('ab'[i % 2])},{'ab'[i % 2]}"
        for i in range(80)
    ]
    (tmp_path / "d.csv").write_text("x0,x1,w,label\n" + "\n".join(rows) + "\n")
    text = "data: {dataset: csv, path: d.csv, target: label, weight: w}\ntrain: {epochs: 20, lr: 0.01}\n"
    (tmp_path / "c.yaml").write_text(text)
    return load_config(tmp_path / "c.yaml")


def folds_scores(cfg, k):
    """The accuracy of each of a trial's k folds."""
    return trainer.sweeps.trial._cross_validate(cfg, k, keep_models=False)["scores"]


def test_cross_validation_weighs_the_rows_of_each_fold_and_maps_class_weights_by_label(tmp_path):
    plain = load_config(ROOT / "configs/iris.yaml", ["train.epochs=20"])
    base = folds_scores(plain, 3)
    ones = folds_scores(_weighted_csv(tmp_path, lambda label: 1), 3)
    no_column = folds_scores(load_config(tmp_path / "c.yaml", ["data.weight=null"]), 3)
    assert ones == no_column  # all-ones weights: the same folds, the same bits
    # class b's rows weigh 0 in every fold's training: the folds' networks never learn b
    zeroed = folds_scores(_weighted_csv(tmp_path, lambda label: 0 if label == "b" else 1), 3)
    assert max(zeroed) <= 0.55 < min(ones)
    by_label = load_config(ROOT / "configs/iris.yaml", ["train.epochs=20", "train.class_weight={setosa: 0}"])
    assert folds_scores(by_label, 3) != base
    with pytest.raises(ConfigError, match="train.class_weight: no class 'rose' among the classes"):
        folds_scores(load_config(ROOT / "configs/iris.yaml", ["train.class_weight={rose: 2}"]), 3)


def test_the_table_says_what_std_and_fit_time_are_and_quiet_prints_only_the_directory(tmp_path, tiny):
    import re

    def table(*args):
        r = cli(*SWEEP, tiny, "--grid", "train.lr=0.01,0.1", "--set", "train.epochs=3", *args, cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        lines = r.stdout.splitlines()
        return lines[0], [re.split(r"\s{2,}", line.strip()) for line in lines[3:5]]

    first, rows = table("--out", "val")  # scored on the one validation split: no spread to show
    assert first.endswith("ranked by accuracy, then loss; fit time is per trial")
    assert rows[0] == ["rank", "train.lr", "accuracy", "std", "loss", "fit time"] and rows[1][3] == "-"
    _, rows = table("--cv", "2", "--out", "cv")
    assert rows[0][-1] == "fit time (2 folds)" and re.fullmatch(r"\d\.\d{4}", rows[1][3])
    r = cli(
        *SWEEP,
        tiny,
        "--grid",
        "train.lr=0.01,0.1",
        "--set",
        "train.epochs=3",
        "--out",
        "q",
        "-q",
        cwd=tmp_path,
    )
    assert (r.returncode, r.stdout, r.stderr) == (0, "q\n", "")


def test_a_folds_loss_is_the_mean_cross_entropy_a_run_reports(tiny):
    from sklearn.datasets import make_moons

    from trainer.data.preprocess import standardize
    from trainer.estimator import TwoLayerNetClassifier
    from trainer.model.metrics import loss_and_accuracy

    X, y = make_moons(n_samples=120, noise=0.3, random_state=0)
    est = TwoLayerNetClassifier(epochs=3, random_state=0).fit(X, y + 5)
    inputs = standardize(X, est.scaler_mean_, est.scaler_scale_, np.float64)
    expected = loss_and_accuracy(est.params_, inputs, y)[0]
    assert trainer.sweeps.trial.cross_entropy(est, X, y + 5) == pytest.approx(expected, rel=1e-13)
