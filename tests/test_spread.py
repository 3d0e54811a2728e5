"""course_lib.core.spread: mean, sample sd and min–max of a result over seeds."""

from __future__ import annotations

import statistics

import pytest

from course_lib.core import Spread, spread


def test_spread_of_three_seeds() -> None:
    s = spread([0.91, 0.95, 0.93])
    assert s.values == (0.91, 0.95, 0.93)
    assert s.mean == pytest.approx(0.93) and s.sd == pytest.approx(0.02)  # sample sd: n - 1
    assert (s.low, s.high) == (0.91, 0.95)
    assert s.format() == "0.930 ± 0.020" == str(s)
    assert s.range(2) == "0.91–0.95" and s.format(1) == "0.9 ± 0.0"


def test_one_value_has_no_spread_and_bad_values_are_refused() -> None:
    assert spread([3]).sd == 0.0 and spread(iter([1, 2])).sd == pytest.approx(statistics.stdev([1, 2]))
    with pytest.raises(ValueError, match="at least one"):
        spread([])
    with pytest.raises(ValueError, match="finite"):
        spread([0.5, float("nan")])
    assert isinstance(spread([1.0]), Spread)
