"""Optimizers (sgd, momentum, nesterov, adam) and per-epoch learning-rate schedules.

An optimizer updates the caller's params in place and only reads the grads. Its state and scratch
are flat buffers of the params' dtype (trainer.model.flat), and its math runs on flat arrays, so each
element-wise operation is one numpy call over every param rather than one call per param: on small
batches the fixed cost of each numpy call is most of a step. Training hands it the params and
grads as flat arrays directly (model.fast.FastStep); dicts are copied in and out.

Scalars: hyperparameters and each step's lr arrive as Python floats. What the element-wise math
reads is held as a 0-d array of the params' dtype, which a ufunc takes faster than a Python float;
math on scalars alone (Adam's bias corrections) is done in Python floats, so float32 training
rounds nothing more than its element-wise math.
"""

import math

import numpy as np

from trainer.model.flat import flat_buffer, views_of


def _float_dtype(params):
    """The one float dtype shared by every param; ValueError otherwise."""
    dtypes = {np.asarray(p).dtype for p in params.values()}
    if not params or len(dtypes) != 1 or not np.issubdtype(next(iter(dtypes)), np.floating):
        raise ValueError(
            f"params must be a non-empty dict of arrays of one float dtype, got {sorted(map(str, dtypes))}"
        )
    return dtypes.pop()


_UNIT = (lambda v: 0 <= v < 1, "a number in [0, 1)")  # a decay rate
_AT_LEAST_ONE = (lambda v: v >= 1, "an integer >= 1")
# hyperparameter -> (test, what it must be): the one statement of each range, which the guards below
# and the config's rules (config/load.py) both check
RANGES = {
    "momentum": _UNIT,
    "beta1": _UNIT,
    "beta2": _UNIT,
    "eps": (lambda v: v > 0, "a number > 0"),
    "epochs": _AT_LEAST_ONE,
    "period": _AT_LEAST_ONE,
}


def check_range(name, value):
    """ValueError unless `value` is in RANGES[name]."""
    test, what = RANGES[name]
    if not test(value):
        raise ValueError(f"{name} must be {what}, got {value}")


class Optimizer:
    """Base: state and scratch in flat buffers with per-param views; `t` counts the steps taken."""

    STATE = ()  # per-param state, saved as "<state>.<param>", e.g. "v.W1"
    SCRATCH = ("s",)  # per-param scratch of the update, overwritten every step, never saved
    HYPER = ()  # the keyword hyperparameters make_optimizer passes on

    def __init__(self, params):
        self.dtype = _float_dtype(params)
        self.shapes = {k: np.shape(p) for k, p in params.items()}  # also the order of the flat layout
        self.t = 0
        self.lr = self._scalar()  # the step's lr, for the element-wise math of sgd, momentum, nesterov
        self.flat, self.views = {}, {}
        for name in self.STATE + self.SCRATCH + ("w", "dw"):  # w, dw: copies of dict params and grads
            self.flat[name], self.views[name] = flat_buffer(self.shapes, self.dtype)

    def __setstate__(self, fields):
        """Unpickled, the views are copies (pickle copies every array): views of the flat buffers again."""
        self.__dict__.update(fields)
        self.views = {name: views_of(flat, self.shapes) for name, flat in self.flat.items()}

    def _scalar(self, value=0.0):
        """A 0-d array of the params' dtype: a ufunc takes it faster than a Python float."""
        return np.array(value, dtype=self.dtype)

    def step(self, params, grads, lr):
        """Update params in place from grads (read only) with learning rate lr.

        params and grads are each a dict of arrays keyed like the params the optimizer was built
        for, or one flat 1-D array holding those arrays back to back in the same order (as
        trainer.model.flat lays them out); flat arrays are used as they are, dicts through copies.
        """
        self.t += 1
        w, dw = self._as_flat(params, "w"), self._as_flat(grads, "dw")
        self._update(w, dw, lr)
        if w is not params:  # a dict: write the updated copy back into the caller's arrays
            for k, u in self.views["w"].items():
                params[k][...] = u

    def _as_flat(self, arrays, name):
        """arrays as one flat array: itself when it is one, else its values copied into buffer `name`."""
        if isinstance(arrays, np.ndarray):
            if arrays.shape != self.flat[name].shape or arrays.dtype != self.dtype:
                raise ValueError(
                    f"a flat {name} must have shape {self.flat[name].shape} and dtype {self.dtype}, "
                    f"got {arrays.shape} and {arrays.dtype}"
                )
            return arrays
        for k, u in self.views[name].items():
            u[...] = arrays[k]
        return self.flat[name]

    def _update(self, w, dw, lr):
        """One step on the flat params w (in place) from the flat gradient dw (read only) at lr (a float)."""
        raise NotImplementedError

    def state_dict(self):
        """Copies of all state, flat names like "v.W1", and the step count "t" as a 0-d int64 array."""
        state = {f"{s}.{k}": u.copy() for s in self.STATE for k, u in self.views[s].items()}
        state["t"] = np.array(self.t, dtype=np.int64)
        return state

    def load_state_dict(self, state):
        """Restore state_dict() exactly; ValueError naming any missing, unexpected or misshaped key."""
        expected = self.state_dict()
        missing = [k for k in expected if k not in state]
        unexpected = [k for k in state if k not in expected]
        if missing or unexpected:
            raise ValueError(f"optimizer state: missing keys {missing}, unexpected keys {unexpected}")
        for k, ref in expected.items():
            a = np.asarray(state[k])
            if a.shape != ref.shape or a.dtype != ref.dtype:
                raise ValueError(
                    f"optimizer state {k!r} has shape {a.shape} and dtype {a.dtype}; "
                    f"expected shape {ref.shape} and dtype {ref.dtype}"
                )
        if state["t"] < 0:
            raise ValueError(f"optimizer state 't' must be >= 0, got {state['t']}")
        for s in self.STATE:  # everything was checked first, so a bad state changes nothing
            for k, u in self.views[s].items():
                u[...] = state[f"{s}.{k}"]
        self.t = int(state["t"])


class SGD(Optimizer):
    """Plain stochastic gradient descent."""

    def _update(self, w, dw, lr):
        """w -= lr * dw."""
        self.lr[()] = lr
        s = np.multiply(dw, self.lr, out=self.flat["s"])  # s = lr * dw
        w -= s


class Momentum(Optimizer):
    """Momentum: a velocity that accumulates past steps."""

    STATE = ("v",)
    HYPER = ("momentum",)

    def __init__(self, params, momentum=0.9):
        check_range("momentum", momentum)
        super().__init__(params)
        self.mu = self._scalar(momentum)

    def _update(self, w, dw, lr):
        """v = mu * v - lr * dw; w += v."""
        self.lr[()] = lr
        s, v = np.multiply(dw, self.lr, out=self.flat["s"]), self.flat["v"]  # s = lr * dw
        # v = mu * v - lr * dw
        v *= self.mu
        v -= s
        # w += v
        w += v


class Nesterov(Momentum):
    """Nesterov momentum in the cs231n form: params hold the look-ahead point."""

    SCRATCH = ("s", "u")

    def _update(self, w, dw, lr):
        """v_prev = v; v = mu * v - lr * dw; w += -mu * v_prev + (1 + mu) * v."""
        self.lr[()] = lr
        s, v, u = np.multiply(dw, self.lr, out=self.flat["s"]), self.flat["v"], self.flat["u"]  # s = lr * dw
        # v = mu * v - lr * dw
        v *= self.mu
        v -= s
        # w += -mu * v_prev + (1 + mu) * v, which is w += mu * v - lr * dw
        # (substitute mu * v_prev = v + lr * dw): no copy of v_prev, two fewer calls
        np.multiply(v, self.mu, u)
        u -= s
        w += u


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015) with bias-corrected moment estimates."""

    STATE = ("m", "v")
    HYPER = ("beta1", "beta2", "eps")

    def __init__(self, params, beta1=0.9, beta2=0.999, eps=1e-8):
        for name, value in (("beta1", beta1), ("beta2", beta2), ("eps", eps)):
            check_range(name, value)
        super().__init__(params)
        # scalar math, once a step (module docstring): the bias corrections 1 - beta ** t. From
        # 0-d float32 betas they would differ (1 - float32(0.9) is 0.1 * (1 + 2.4e-7), 3 float32 ulps)
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)
        # element-wise math: 0-d arrays
        self.b1, self.one_minus_b1 = self._scalar(beta1), self._scalar(1 - beta1)
        self.b2, self.one_minus_b2 = self._scalar(beta2), self._scalar(1 - beta2)
        self.lr_t, self.eps_hat = self._scalar(), self._scalar()  # set every step, from lr and t

    def _update(self, w, dw, lr):
        """t += 1; m, v = moving means of dw, dw^2; w -= lr * mhat / (sqrt(vhat) + eps)."""
        # step() has advanced t once for this step, not per param: the bias corrections depend on it
        c1, c2 = 1 - self.beta1**self.t, 1 - self.beta2**self.t  # mhat = m / c1, vhat = v / c2
        m, v, s = self.flat["m"], self.flat["v"], self.flat["s"]
        # m = b1 * m + (1 - b1) * dw
        m *= self.b1
        np.multiply(dw, self.one_minus_b1, s)
        m += s
        # v = b2 * v + (1 - b2) * dw^2
        v *= self.b2
        np.multiply(dw, dw, s)
        s *= self.one_minus_b2
        v += s
        # w -= lr * mhat / (sqrt(vhat) + eps)
        #    = lr * sqrt(c2) / c1 * m / (sqrt(v) + eps * sqrt(c2)): the corrections folded into two scalars
        self.lr_t[()] = lr * math.sqrt(c2) / c1
        self.eps_hat[()] = self.eps * math.sqrt(c2)
        np.sqrt(v, s)
        s += self.eps_hat
        np.divide(m, s, s)
        s *= self.lr_t
        w -= s


OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "nesterov": Nesterov, "adam": Adam}


def make_optimizer(name, params, *, momentum=0.9, beta1=0.9, beta2=0.999, eps=1e-8):
    """Build the optimizer called `name` for params (a dict of arrays of one float dtype).

    Each optimizer takes only the hyperparameters it uses: momentum for momentum and nesterov;
    beta1, beta2 and eps for adam. Raises ValueError for an unknown name or an out-of-range value.
    """
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; expected one of {', '.join(OPTIMIZERS)}")
    cls = OPTIMIZERS[name]
    hyper = {"momentum": momentum, "beta1": beta1, "beta2": beta2, "eps": eps}
    return cls(params, **{k: hyper[k] for k in cls.HYPER})


def _constant(lr, epoch, epochs, decay, period, lr_min):
    """lr."""
    return lr


def _step(lr, epoch, epochs, decay, period, lr_min):
    """lr * decay ** (epoch // period): multiplied by decay every `period` epochs."""
    return lr * decay ** (epoch // period)


def _exponential(lr, epoch, epochs, decay, period, lr_min):
    """lr * decay ** epoch: multiplied by decay every epoch (cs231n)."""
    return lr * decay**epoch


def _cosine(lr, epoch, epochs, decay, period, lr_min):
    """lr_min + (lr - lr_min) * (1 + cos(pi * epoch / epochs)) / 2: from lr down towards lr_min."""
    return lr_min + (lr - lr_min) * (1 + math.cos(math.pi * epoch / epochs)) / 2


SCHEDULES = {"constant": _constant, "step": _step, "exponential": _exponential, "cosine": _cosine}


def lr_at(schedule, lr, epoch, epochs, *, decay=0.1, period=30, lr_min=0.0):
    """The learning rate used throughout 0-based `epoch` of `epochs` under `schedule`.

    constant: lr; step: lr * decay ** (epoch // period); exponential: lr * decay ** epoch;
    cosine: lr_min + (lr - lr_min) * (1 + cos(pi * epoch / epochs)) / 2.
    Raises ValueError for an unknown schedule, epochs < 1 or period < 1.
    """
    if schedule not in SCHEDULES:
        raise ValueError(f"unknown schedule {schedule!r}; expected one of {', '.join(SCHEDULES)}")
    check_range("epochs", epochs)
    check_range("period", period)
    return float(SCHEDULES[schedule](lr, epoch, epochs, decay, period, lr_min))
