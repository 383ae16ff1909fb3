"""A curve as one line of text: the loss sparkline in the terminal summary (no matplotlib needed)."""

import math

BARS = "▁▂▃▄▅▆▇█"  # eight heights, lowest first


def sparkline(values, width=40):
    """Values as at most `width` bars scaled from their min to their max; a non-finite value is a space.

    Longer series are averaged over `width` equal runs of consecutive values, so the line keeps
    the curve's shape; a constant series is a row of middle bars.
    """
    values = _downsample([float(v) for v in values], width)
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return " " * len(values)
    lo, hi = min(finite), max(finite)
    top = len(BARS) - 1
    height = (lambda v: round((v - lo) / (hi - lo) * top)) if hi > lo else (lambda v: top // 2)
    return "".join(BARS[height(v)] if math.isfinite(v) else " " for v in values)


def _downsample(values, width):
    """The means of `width` equal runs of values (values itself when it is short enough)."""
    n = len(values)
    if n <= width:
        return values
    runs = (values[i * n // width : (i + 1) * n // width] for i in range(width))
    return [sum(run) / len(run) for run in runs]
