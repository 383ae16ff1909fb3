"""The gradient checker, its report, and the `trainer gradcheck` command."""

import json
import re

import numpy as np
import pytest
from conftest import cli

from trainer.cli import main
from trainer.model import gradcheck
from trainer.model.gradcheck import GradcheckConfig, numeric_grad, numeric_grads, random_network, rel_error
from trainer.model.jacobian import JacobianTooLarge
from trainer.model.network import PARAM_NAMES, loss_and_grads


def test_rel_error_is_the_max_difference_over_the_max_magnitude():
    assert rel_error([1.0], [1.1]) == pytest.approx(0.1 / 2.1)
    assert rel_error([1.0, 100.0], [2.0, 100.0]) == pytest.approx(1 / 200)  # maxima over all entries
    assert rel_error([3.0, -2.0], [3.0, -2.0]) == 0.0
    assert rel_error(np.zeros(3), np.zeros(3)) == 0.0  # the 1e-8 floor: no 0 / 0
    assert rel_error([1e-10], [0.0]) == pytest.approx(1e-2)
    assert rel_error([1.0], [-1.0]) == 1.0
    assert rel_error([0.5, 2.0], [0.25, 1.0]) == rel_error([0.25, 1.0], [0.5, 2.0])


def test_numeric_grad_of_a_known_function():
    x = np.array([[0.3, -1.2], [2.0, 0.0]])
    g = numeric_grad(lambda v: np.sum(np.sin(v)) + np.sum(v**3), x)
    assert g.shape == x.shape and g.dtype == np.float64
    assert rel_error(g, np.cos(x) + 3 * x**2) < 1e-9
    np.testing.assert_array_equal(x, [[0.3, -1.2], [2.0, 0.0]])  # left unchanged


def test_numeric_grad_works_in_float64_even_for_float32_input():
    x = np.array([1.0, 2.0], dtype=np.float32)
    g = numeric_grad(lambda v: float(v @ v), x)
    assert g.dtype == np.float64 and rel_error(g, [2.0, 4.0]) < 1e-9


def test_numeric_grads_catch_a_wrong_gradient():
    params, X, y = random_network(GradcheckConfig(N=5, D=3, H=4, C=3, reg=0.2, seed=4))
    _, grads = loss_and_grads(params, X, y, 0.2)
    numeric = numeric_grads(params, X, y, 0.2)
    assert set(numeric) == set(PARAM_NAMES)
    assert rel_error(grads["W1"], numeric["W1"]) < 1e-7
    assert rel_error(grads["W1"] - 0.2 * params["W1"], numeric["W1"]) > 1e-3  # the reg term forgotten
    nudged = grads["b2"].copy()
    nudged[0] += 1e-5
    assert rel_error(nudged, numeric["b2"]) > 1e-7


def test_random_network_is_seeded_and_shaped():
    params, X, y = random_network(GradcheckConfig(N=6, D=2, H=3, C=4, seed=5))
    again, X2, y2 = random_network(GradcheckConfig(N=6, D=2, H=3, C=4, seed=5))
    assert X.shape == (6, 2) and y.shape == (6,) and params["W2"].shape == (3, 4)
    assert all(np.array_equal(params[k], again[k]) for k in PARAM_NAMES)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    assert params["b1"].any() and 0 <= y.min() and y.max() < 4


def test_report_passes_on_the_default_network():
    r = gradcheck.report()
    assert r["ok"] is True and r["network"] == {
        "N": 8,
        "D": 5,
        "H": 10,
        "C": 3,
        "reg": 0.1,
        "seed": 0,
        "weighted": False,
    }
    assert [p["param"] for p in r["params"]] == list(PARAM_NAMES)
    for p in r["params"]:
        assert p["numeric_error"] < gradcheck.NUMERIC_TOL and p["jacobian_error"] < gradcheck.JACOBIAN_TOL
        assert p["jacobian_bytes"] > p["compact_bytes"]
    w1 = r["params"][0]
    assert w1["shape"] == (5, 10) and w1["jacobian"] == "dz/dW1" and w1["jacobian_shape"] == (8, 10, 5, 10)
    assert w1["jacobian_bytes"] == 8 * 10 * 5 * 10 * 8 and w1["compact_bytes"] == 8 * 5 * 8
    assert r["totals"]["jacobian_bytes"] == sum(j["jacobian_bytes"] for j in r["jacobians"])
    # probs, hidden, W2, X once each
    assert r["totals"]["compact_bytes"] == (8 * 3 + 8 * 10 + 10 * 3 + 8 * 5) * 8
    assert r["loss_error"] < 1e-12
    json.dumps(r)


def test_report_is_deterministic_and_follows_the_seed():
    a = gradcheck.report(GradcheckConfig(N=3, D=2, H=4, C=2, reg=0.5, seed=7))
    b = gradcheck.report(GradcheckConfig(N=3, D=2, H=4, C=2, reg=0.5, seed=7))
    c = gradcheck.report(GradcheckConfig(N=3, D=2, H=4, C=2, reg=0.5, seed=8))
    assert a == b and a["loss"] != c["loss"] and a["ok"] and c["ok"]


def test_weighted_report_checks_the_weighted_loss_with_some_weights_zero():
    cfg = GradcheckConfig(N=12, D=3, H=5, C=4, seed=2, weighted=True)
    w = gradcheck.random_weights(cfg)
    assert (w == 0).any() and (w > 0).any() and (w >= 0).all()
    r = gradcheck.report(cfg)
    assert r["ok"] and r["network"]["weighted"] is True
    params, X, y = random_network(cfg)
    assert (
        r["loss"] == loss_and_grads(params, X, y, cfg.reg, w)[0] != loss_and_grads(params, X, y, cfg.reg)[0]
    )


def test_cli_gradcheck_weighted():
    run = cli("gradcheck", "--weighted", "--json")
    assert run.returncode == 0, run.stderr
    r = json.loads(run.stdout)
    assert r["ok"] and r["network"]["weighted"] is True


def test_report_refuses_jacobians_over_its_limit():
    with pytest.raises(JacobianTooLarge):
        gradcheck.report(GradcheckConfig(N=3, D=2, H=4, C=2), limit=100)


def test_cli_gradcheck_prints_its_table_and_exits_0():
    run = cli("gradcheck")
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert "N=8 D=5 H=10 C=3 reg=0.1 seed=0" in lines[0]
    for name, jac in (
        ("W1", "dz/dW1 (8, 10, 5, 10)"),
        ("b1", "dz/db1"),
        ("W2", "dscores/dW2"),
        ("b2", "dscores/db2"),
    ):
        row = next(line for line in lines if line.startswith(name + " "))
        assert len(re.findall(r"\d\.\d\de[-+]\d\d", row)) == 2 and jac in row, row
    assert any(line.startswith("dhidden/dz (8, 10, 8, 10)") and "50.0 KiB" in line for line in lines)
    assert lines[-1].startswith("ok:")


def test_cli_gradcheck_json_takes_the_options():
    run = cli(
        "gradcheck", "--n", "1", "--d", "2", "--h", "1", "--c", "2", "--reg", "0.5", "--seed", "3", "--json"
    )
    assert run.returncode == 0, run.stderr
    r = json.loads(run.stdout)
    assert r["network"] == {"N": 1, "D": 2, "H": 1, "C": 2, "reg": 0.5, "seed": 3, "weighted": False}
    assert r["ok"] is True and [p["param"] for p in r["params"]] == list(PARAM_NAMES)
    assert all(p["numeric_error"] < 1e-7 and p["jacobian_error"] < 1e-12 for p in r["params"])


def test_cli_gradcheck_exits_1_when_an_error_is_too_large(monkeypatch, capsys):
    failing = gradcheck.report(GradcheckConfig(N=2, D=2, H=2, C=2))
    failing["params"][2]["numeric_error"], failing["ok"] = 3e-5, False
    monkeypatch.setattr(gradcheck, "report", lambda cfg: failing)
    assert main(["gradcheck"]) == 1
    out = capsys.readouterr().out
    assert "3.00e-05" in out and out.splitlines()[-1].startswith("FAILED")


def test_cli_gradcheck_refuses_a_network_too_big_for_its_jacobians(capsys):
    assert main(["gradcheck", "--n", "6000", "--c", "3"]) == 2
    err = capsys.readouterr().err
    assert "refusing to build the Jacobian" in err and "(6000, 3, 6000, 3)" in err and "smaller --n" in err


@pytest.mark.parametrize("args", [["--n", "0"], ["--c", "x"], ["--seed", "-1"]])
def test_cli_gradcheck_rejects_bad_options(args, capsys):
    assert main(["gradcheck", *args]) == 2
    assert "argument --" in capsys.readouterr().err
