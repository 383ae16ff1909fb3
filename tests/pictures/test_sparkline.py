"""The terminal sparkline: scaled min to max, downsampled by means, gaps for non-finite values."""

import math

from trainer.pictures.sparkline import BARS, sparkline


def test_a_falling_curve_runs_from_the_top_bar_to_the_bottom_bar():
    line = sparkline([1.0, 0.5, 0.25, 0.125, 0.0])
    assert line[0] == BARS[-1] and line[-1] == BARS[0]
    assert [BARS.index(c) for c in line] == sorted((BARS.index(c) for c in line), reverse=True)


def test_each_value_gets_its_height_on_the_eight_step_scale():
    assert sparkline([0, 1, 2, 3, 4, 5, 6, 7]) == BARS
    assert sparkline([0.0, 3.4, 3.6, 7.0]) == BARS[0] + BARS[3] + BARS[4] + BARS[7]  # rounded to the nearest


def test_a_long_series_is_averaged_down_to_the_width():
    assert len(sparkline(range(1000), width=40)) == 40
    assert sparkline([0.0] * 50 + [1.0] * 50, width=2) == BARS[0] + BARS[-1]
    assert sparkline([0.0, 2.0, 4.0, 6.0, 0.0, 0.0], width=3) == BARS[1] + BARS[-1] + BARS[0]  # means 1, 5, 0


def test_constant_empty_and_non_finite_series():
    assert sparkline([0.3] * 5) == BARS[3] * 5
    assert sparkline([]) == ""
    assert sparkline([1.0, math.nan, 0.0]) == BARS[-1] + " " + BARS[0]
    assert sparkline([math.inf, math.nan]) == "  "
