"""Checking the compact gradients twice: against centred differences and against the full Jacobians."""

from dataclasses import asdict, dataclass

import numpy as np

from trainer.model import jacobian
from trainer.model.network import PARAM_NAMES, init_params, loss_and_grads

NUMERIC_TOL = 1e-7  # centred differences in float64 are good to about eps^2 + 1e-16 / eps
JACOBIAN_TOL = 1e-12  # the same sums in another order: rounding only

# the layer Jacobian dY/dparam whose compact map gives each parameter's gradient
PARAM_JACOBIANS = {"W1": "dz/dW1", "b1": "dz/db1", "W2": "dscores/dW2", "b2": "dscores/db2"}


@dataclass
class GradcheckConfig:
    N: int = 8  # rows; small, so that every full Jacobian stays under 100 KiB
    D: int = 5  # features
    H: int = 10  # hidden units
    C: int = 3  # classes
    reg: float = 0.1  # > 0, so that the reg * W terms of dW1 and dW2 are checked too
    seed: int = 0  # seeds X, y, the weights and the biases
    weighted: bool = False  # check the sample-weighted loss, with random weights (some of them 0)


def rel_error(a, b):
    """max|a - b| / max(1e-8, max(|a| + |b|)): 0 for equal arrays, about 1 for unrelated ones."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b)) / max(1e-8, np.max(np.abs(a) + np.abs(b))))


def numeric_grad(f, x, eps=1e-6):
    """Centred differences in float64: g_k = (f(x + eps e_k) - f(x - eps e_k)) / (2 eps); x is unchanged."""
    x = np.array(x, dtype=np.float64)  # our own copy, perturbed one entry at a time
    g = np.zeros_like(x)
    for k in np.ndindex(x.shape):
        old = x[k]
        x[k] = old + eps
        f_plus = f(x)
        x[k] = old - eps
        f_minus = f(x)
        x[k] = old
        g[k] = (f_plus - f_minus) / (2 * eps)
    return g


def numeric_grads(params, X, y, reg=0.0, eps=1e-6, sample_weight=None):
    """Centred-difference gradient of loss_and_grads' loss sw.r.t. each parameter, in float64."""
    params = {k: np.asarray(v, dtype=np.float64) for k, v in params.items()}
    X = np.asarray(X, dtype=np.float64)

    def loss(name, v):
        return loss_and_grads({**params, name: v}, X, y, reg, sample_weight)[0]

    def grad(name):
        return numeric_grad(lambda v: loss(name, v), params[name], eps)

    return {name: grad(name) for name in PARAM_NAMES}


def random_network(gradcheck_cfg):
    """Seeded float64 params (random biases too), X ~ N(0, 1) of shape (N, D), and labels y of shape (N,)."""
    rng = np.random.default_rng(gradcheck_cfg.seed)
    params = init_params(gradcheck_cfg.D, gradcheck_cfg.H, gradcheck_cfg.C, rng, init="he")
    params["b1"] = 0.1 * rng.standard_normal(
        gradcheck_cfg.H
    )  # nonzero, so a wrong bias term shows in the loss
    params["b2"] = 0.1 * rng.standard_normal(gradcheck_cfg.C)
    X = rng.standard_normal((gradcheck_cfg.N, gradcheck_cfg.D))
    y = rng.integers(0, gradcheck_cfg.C, size=gradcheck_cfg.N)
    return params, X, y


def random_weights(gradcheck_cfg):
    """Seeded sample weights (N,) uniform in [0, 3), about a third of them exactly 0, never all 0."""
    rng = np.random.default_rng(
        [gradcheck_cfg.seed, 1]
    )  # a stream of its own: random_network's draws stay as they are
    sw = rng.uniform(0, 3, gradcheck_cfg.N) * (rng.random(gradcheck_cfg.N) > 1 / 3)
    sw[rng.integers(gradcheck_cfg.N)] += 1.0  # one row at least weighs > 0
    return sw


def report(gradcheck_cfg=None, limit=jacobian.MAX_BYTES):
    """Per parameter: compact-vs-numeric and compact-vs-Jacobian errors, and Jacobian vs compact bytes."""
    gradcheck_cfg = gradcheck_cfg or GradcheckConfig()
    params, X, y = random_network(gradcheck_cfg)
    sw = random_weights(gradcheck_cfg) if gradcheck_cfg.weighted else None
    loss, grads = loss_and_grads(params, X, y, gradcheck_cfg.reg, sw)
    jac_loss, jac_grads = jacobian.network_grads(params, X, y, gradcheck_cfg.reg, limit, sw)
    num_grads = numeric_grads(params, X, y, gradcheck_cfg.reg, sample_weight=sw)
    sizes = {
        row["jacobian"]: row
        for row in jacobian.sizes(
            gradcheck_cfg.N, gradcheck_cfg.D, gradcheck_cfg.H, gradcheck_cfg.C, X.itemsize
        )
    }
    rows = [
        {
            "param": name,
            "shape": params[name].shape,
            "numeric_error": rel_error(grads[name], num_grads[name]),
            "jacobian_error": rel_error(grads[name], jac_grads[name]),
            **sizes[PARAM_JACOBIANS[name]],
        }
        for name in PARAM_NAMES
    ]
    ok = all(r["numeric_error"] < NUMERIC_TOL and r["jacobian_error"] < JACOBIAN_TOL for r in rows)
    return {
        "network": asdict(gradcheck_cfg),
        "dtype": str(X.dtype),
        "loss": loss,
        "loss_error": rel_error(loss, jac_loss),
        "params": rows,
        "jacobians": list(sizes.values()),
        "totals": _totals(sizes.values()),
        "numeric_tol": NUMERIC_TOL,
        "jacobian_tol": JACOBIAN_TOL,
        "ok": ok,
    }


def _totals(rows):
    """Bytes of all full Jacobians, and of the distinct arrays the compact maps read instead."""
    compact = {r["compact"]: r["compact_bytes"] for r in rows}
    return {"jacobian_bytes": sum(r["jacobian_bytes"] for r in rows), "compact_bytes": sum(compact.values())}
