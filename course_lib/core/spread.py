"""Results over several training seeds: a comparison is a claim about methods, not about one seed.

>>> s = spread([0.91, 0.95, 0.93])
>>> s.format(), s.range()
('0.930 ± 0.020', '0.910–0.950')
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Spread:
    """The values of one measurement over seeds, with their mean, sample sd and min–max."""

    values: tuple[float, ...]

    @property
    def mean(self) -> float:
        return statistics.fmean(self.values)

    @property
    def sd(self) -> float:
        """Sample standard deviation (n - 1); 0 for a single value."""
        return statistics.stdev(self.values) if len(self.values) > 1 else 0.0

    @property
    def low(self) -> float:
        return min(self.values)

    @property
    def high(self) -> float:
        return max(self.values)

    def format(self, digits: int = 3) -> str:
        """``"mean ± sd"`` at ``digits`` decimals."""
        return f"{self.mean:.{digits}f} ± {self.sd:.{digits}f}"

    def range(self, digits: int = 3) -> str:
        """``"min–max"`` at ``digits`` decimals."""
        return f"{self.low:.{digits}f}–{self.high:.{digits}f}"

    def __str__(self) -> str:
        return self.format()


def spread(values: Iterable[float]) -> Spread:
    """``Spread`` of finite numbers (at least one): ``spread(acc for each seed)``."""
    values = tuple(float(v) for v in values)
    if not values:
        raise ValueError("spread needs at least one value (one per seed), got none")
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"spread needs finite values, got {values}")
    return Spread(values)
