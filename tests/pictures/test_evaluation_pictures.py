"""Pictures of an evaluation (`trainer evaluate --plot DIR`) and `trainer plot DIR` for every kind of
directory: real files of the figure's size, what each figure draws read back from its Figure or its
SVG text, the AUC and average precision equal to scikit-learn's on scores computed here, and
evaluate's output unchanged without matplotlib."""

import json
import re
import struct
import sys

import numpy as np
import pytest
from conftest import ROOT, cli
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.image import imread
from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve

from trainer.evaluate import model_splits
from trainer.pictures import evaluation
from trainer.predict import predict_csv
from trainer.storage.evaldir import read_evaluation
from trainer.storage.modelfile import load_model

MOONS = """\
name: tiny_moons
seed: 3
data: {dataset: moons, params: {n_samples: 200, noise: 0.35}}
model: {hidden_size: 8}
train: {epochs: 6, batch_size: 32, lr: 0.05}
"""
BINARY = ("confusion.png", "roc.png", "precision_recall.png")


def ok(r):
    assert r.returncode == 0, r.stderr
    return r


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A binary (moons) and a 3-class (iris) run, trained without pictures; their directory."""
    tmp = tmp_path_factory.mktemp("evalpics")
    (tmp / "moons.yaml").write_text(MOONS)
    ok(cli("train", "moons.yaml", "--out", "moons", "-q", "--no-plots", cwd=tmp))
    iris = ROOT / "configs/iris.yaml"
    ok(cli("train", iris, "--set", "train.epochs=3", "--out", "iris", "-q", "--no-plots", cwd=tmp))
    return tmp


@pytest.fixture(scope="module")
def moons_eval(runs):
    """`trainer evaluate moons --plot ev`: (its directory, stdout)."""
    return runs / "ev", ok(cli("evaluate", "moons", "--plot", "ev", cwd=runs)).stdout


def png_size(path):
    """(width, height) in pixels from a PNG's IHDR chunk."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


def own_scores(run_dir):
    """(class indices, probability of class 1) of the test split, computed here from the model."""
    model = load_model(run_dir / "model.npz")
    test = model_splits(model).test
    return test.y, model.predict_proba(test, unknown="ignore")[:, 1]


def figures(directory):
    return evaluation.evaluation_figures(*read_evaluation(directory))


def texts(ax):
    return [t.get_text() for t in ax.texts]


def test_evaluate_plot_writes_the_pictures_and_what_draws_them_beside_the_same_report(runs, moons_eval):
    ev, out = moons_eval
    plain = ok(cli("evaluate", "moons", cwd=runs)).stdout
    shown = ", ".join(str(ev.relative_to(runs) / name) for name in BINARY)
    assert out == f"{plain}\npictures {shown}\n"
    assert sorted(p.name for p in ev.iterdir()) == sorted([*BINARY, "evaluation.json", "scores.npz"])
    drawn = figures(ev)
    for name in BINARY:  # each file is its Figure at 120 dpi, drawn on
        inches = drawn[name.removesuffix(".png")].get_size_inches()
        assert png_size(ev / name) == tuple(np.round(inches * 120).astype(int)), name
        assert imread(ev / name)[..., :3].std() > 0.05, f"{name} looks blank"
    assert png_size(ev / "roc.png") == (672, 648)  # CURVE_SIZE, 5.6 x 5.4 inches
    record = json.loads((ev / "evaluation.json").read_text())
    report = json.loads(ok(cli("evaluate", "moons", "--json", cwd=runs)).stdout)
    assert record["report"] == report and record["source"] == "the test split"
    assert (record["name"], record["model"], record["positive_class"]) == ("tiny_moons", "moons", 1)
    y, score = own_scores(runs / "moons")
    _, y_saved, score_saved = read_evaluation(ev)
    assert np.array_equal(y_saved, y) and np.array_equal(score_saved, score)
    assert record["roc_auc"] == roc_auc_score(y, score)
    assert record["average_precision"] == average_precision_score(y, score)
    assert 0.5 < record["roc_auc"] < 1  # a real curve, not a perfect or a chance one


def test_the_confusion_picture_shows_counts_and_rows_that_sum_to_one(moons_eval):
    ev, _ = moons_eval
    counts = np.array(read_evaluation(ev)[0]["report"]["confusion_matrix"])
    fig = figures(ev)["confusion"]
    left, right = fig.axes[:2]  # then their colour bars
    assert texts(left) == [str(n) for n in counts.ravel()]
    for ax in (left, right):
        assert (ax.get_xlabel(), ax.get_ylabel()) == ("predicted class", "true class")
        assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "1"]
        assert [t.get_text() for t in ax.get_yticklabels()] == ["0", "1"]
    shares = right.images[0].get_array()
    assert np.allclose(shares.sum(axis=1), 1.0) and np.allclose(shares, counts / counts.sum(axis=1)[:, None])
    assert [float(t) for t in texts(right)] == pytest.approx(
        (counts / counts.sum(1)[:, None]).ravel(), abs=0.005
    )
    right_rows = int(np.trace(counts))
    assert f"{right_rows} of {counts.sum()} rows classified right" in fig.get_suptitle()


def test_the_roc_and_pr_pictures_show_sklearns_curves_their_areas_and_chance(runs, moons_eval):
    ev, _ = moons_eval
    y, score = own_scores(runs / "moons")
    drawn = figures(ev)
    roc = drawn["roc"].axes[0]
    legend = [t.get_text() for t in roc.get_legend().get_texts()]
    assert f"ROC curve (AUC {roc_auc_score(y, score):.4f})" in legend and "chance (AUC 0.5)" in legend
    chance, curve = roc.get_lines()[:2]
    fpr, tpr, _ = roc_curve(y, score)
    assert list(chance.get_xdata()) == [0, 1] and list(chance.get_ydata()) == [0, 1]
    assert np.array_equal(curve.get_xdata(), fpr) and np.array_equal(curve.get_ydata(), tpr)
    assert roc.get_xlabel().startswith("false positive rate") and "class 1" in roc.get_ylabel()
    pr = drawn["precision_recall"].axes[0]
    legend = [t.get_text() for t in pr.get_legend().get_texts()]
    prevalence = np.mean(y == 1)
    assert f"precision-recall curve (AP {average_precision_score(y, score):.4f})" in legend
    assert f"chance (precision {prevalence:.3f}: the share of class 1)" in legend
    assert list(pr.get_lines()[0].get_ydata()) == [prevalence, prevalence]
    assert (pr.get_xlabel(), pr.get_ylabel()) == ("recall of class 1", "precision of class 1")
    FigureCanvasAgg(drawn["precision_recall"]).draw()  # the legend below the axes: chance runs at any height
    assert pr.get_legend().get_window_extent().y1 < pr.get_window_extent().y0


def test_a_share_that_two_decimals_would_round_to_0_or_1_says_it_is_neither():
    fig = evaluation.confusion_pair_figure(np.array([[357, 1], [4, 38]]), [0, 1], "imbalanced")
    counts, shares = fig.axes[:2]
    assert texts(counts) == ["357", "1", "4", "38"]
    assert texts(shares) == [">0.99", "<0.01", "0.10", "0.90"]  # 357/358 and 1/358


def test_three_classes_draw_the_confusion_matrix_only_as_svg_at_a_dpi(runs, moons_eval):
    ev = runs / "ev3"
    (ev / "roc.svg").parent.mkdir()
    (ev / "roc.svg").write_text("an earlier evaluation's")  # a two-class one, in the same directory
    r = ok(cli("evaluate", "iris", "--plot", "ev3", "--format", "svg", "--dpi", "50", cwd=runs))
    assert r.stdout.endswith("\npictures ev3/confusion.svg\n")
    assert sorted(p.name for p in ev.iterdir()) == ["confusion.svg", "evaluation.json"]
    record, y, score = read_evaluation(ev)
    assert y is None and score is None and "roc_auc" not in record
    counts = np.array(record["report"]["confusion_matrix"])
    assert counts.shape == (3, 3)
    svg = (ev / "confusion.svg").read_text()
    inches = figures(ev)["confusion"].get_size_inches()
    assert svg.startswith("<?xml") and f'width="{inches[0] * 72:g}pt"' in svg  # SVG is in points
    comments = re.findall(r"<!-- (.*?) -->", svg)  # matplotlib's SVG names each text it draws as paths
    names = ["setosa", "versicolor", "virginica"]
    for text in ["predicted class", "true class", *names, *map(str, counts.ravel())]:
        assert text in comments, text
    assert comments.count("predicted class") == 2  # counts and shares
    left, right = figures(ev)["confusion"].axes[:2]
    assert texts(left) == [str(n) for n in counts.ravel()]
    assert [t.get_text() for t in left.get_xticklabels()] == names
    assert np.allclose(right.images[0].get_array().sum(axis=1), 1.0)


def test_plot_redraws_an_evaluation_as_it_was_drawn_or_into_out_at_a_dpi(runs, moons_eval, tmp_path):
    ev, _ = moons_eval
    before = {name: imread(ev / name) for name in BINARY}
    for name in BINARY:
        (ev / name).unlink()
    r = ok(cli("plot", ev, cwd=runs))
    assert r.stdout.split() == [str(ev / name) for name in BINARY]
    assert all(np.array_equal(imread(ev / name), before[name]) for name in BINARY)
    r = ok(cli("plot", ev, "--out", tmp_path, "--dpi", "60", cwd=runs))
    assert r.stdout.split() == [str(tmp_path / name) for name in BINARY]
    assert png_size(tmp_path / "roc.png") == (336, 324)  # half of 120 dpi's


def test_plot_redraws_a_run_and_a_seed_group_into_out_in_the_format_and_size_asked(runs, tmp_path):
    r = ok(cli("plot", "moons", "--out", tmp_path / "run", "--dpi", "30", cwd=runs))
    assert r.stdout.split() == [
        str(tmp_path / "run" / name) for name in ("curves.png", "confusion.png", "boundary.png")
    ]
    sets = ("--set", "train.epochs=2", "-q", "--no-plots", "--backend", "threading")
    ok(cli("train", ROOT / "configs/iris.yaml", "--seeds", "0,1", *sets, "--out", "group", cwd=tmp_path))
    assert ok(cli("plot", "group", "--format", "pdf", cwd=tmp_path)).stdout == "group/curves.pdf\n"
    assert (tmp_path / "group/curves.pdf").read_bytes().startswith(b"%PDF-")
    for dpi in (30, 60):
        ok(cli("plot", "group", "--out", f"g{dpi}", "--dpi", dpi, cwd=tmp_path))
    small, large = (png_size(tmp_path / f"g{dpi}/curves.png") for dpi in (30, 60))
    assert large == (2 * small[0], 2 * small[1]) and small[0] >= 180


def test_plot_of_a_directory_of_no_known_kind_is_one_line_naming_it_and_the_kinds(tmp_path):
    (tmp_path / "stuff").mkdir()
    (tmp_path / "stuff/notes.txt").write_text("hello\n")
    kinds = (
        "a seed group (holding group.json), an evaluation (holding evaluation.json), "
        "a sweep (holding sweep.json) or a run"
    )
    for name, why in (("stuff", "nothing to draw"), ("nope", "no such directory")):
        r = cli("plot", name, cwd=tmp_path)
        assert r.returncode == 1 and r.stdout == ""
        assert (
            r.stderr.startswith(f"trainer: error: {name}: {why}; `trainer plot` draws ") and kinds in r.stderr
        )
        assert r.stderr.count("\n") == 1


def test_evaluate_plot_refuses_another_kind_of_directory_and_picture_options_without_it(runs):
    r = cli("evaluate", "moons", "--plot", "iris", cwd=runs)
    assert (
        r.returncode == 2
        and r.stderr == "trainer: error: evaluate: --plot iris holds a run; choose another directory\n"
    )
    assert not (runs / "iris/evaluation.json").exists()
    for flags in (("--format", "svg"), ("--dpi", "60")):
        r = cli("evaluate", "moons", *flags, cwd=runs)
        assert r.returncode == 2 and "--format and --dpi are for --plot DIR" in r.stderr


def test_without_matplotlib_evaluate_says_so_once_and_plot_draws_later(runs, monkeypatch):
    plain = ok(cli("evaluate", "moons", "--json", cwd=runs)).stdout
    with monkeypatch.context() as m:
        m.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` raises ImportError
        r = cli("evaluate", "moons", "--plot", "later", "--json", cwd=runs)
    assert r.returncode == 0 and r.stdout == plain
    assert r.stderr.startswith("trainer: warning: no pictures: matplotlib is not installed;")
    assert r.stderr.count("\n") == 1 and "`trainer plot later` draws them" in r.stderr
    assert sorted(p.name for p in (runs / "later").iterdir()) == ["evaluation.json", "scores.npz"]
    r = ok(cli("plot", "later", cwd=runs))
    assert r.stdout.split() == [f"later/{name}" for name in BINARY]


def test_a_binary_csv_is_scored_as_predict_scores_it_and_one_class_has_no_curves(tmp_path):
    rows = [f"{x % 7},{(x * 3) % 5 * 0.5},{'ab'[(x % 7 + x % 3) % 2]}" for x in range(60)]
    (tmp_path / "d.csv").write_text("f1,f2,label\n" + "\n".join(rows) + "\n")
    (tmp_path / "c.yaml").write_text("data: {dataset: csv, path: d.csv}\ntrain: {epochs: 3}\n")
    ok(cli("train", "c.yaml", "--out", "run", "-q", "--no-plots", cwd=tmp_path))
    ok(cli("evaluate", "run", "--csv", "d.csv", "--plot", "ev", cwd=tmp_path))
    record, y, score = read_evaluation(tmp_path / "ev")
    _, proba = predict_csv(load_model(tmp_path / "run/model.npz"), tmp_path / "d.csv")
    assert np.array_equal(score, proba[:, 1]) and np.array_equal(y, [r.endswith("b") for r in rows])
    assert record["source"] == "d.csv" and record["roc_auc"] == roc_auc_score(y, score)
    assert {"roc.png", "precision_recall.png"} <= {p.name for p in (tmp_path / "ev").iterdir()}
    (tmp_path / "a.csv").write_text("f1,f2,label\n" + "\n".join(r for r in rows if r.endswith("a")) + "\n")
    r = ok(cli("evaluate", "run", "--csv", "a.csv", "--plot", "ev", cwd=tmp_path))
    assert "trainer: note: no ROC or precision-recall curve: every row of a.csv is of one class\n" == r.stderr
    assert sorted(p.name for p in (tmp_path / "ev").iterdir()) == [
        "confusion.png",
        "evaluation.json",
        "scores.npz",
    ]
