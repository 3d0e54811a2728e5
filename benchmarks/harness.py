"""A tiny benchmark harness: ours vs a reference, in one process, median of repeats after warm-up.

Each ``benchmarks/bench_*.py`` defines ``rows() -> Iterable[Row]``; ``benchmarks/run.py`` prints
them as one table. A row whose reference is not installed is reported as skipped, with the reason.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Row:
    """One line of the table. ``ours`` and ``reference`` are in ``unit``; ratio = ours / reference."""

    what: str
    ours: float
    reference: float
    unit: str = "ms"
    note: str = ""

    @property
    def ratio(self) -> float:
        return self.ours / self.reference if self.reference else float("nan")


def measure(fn: Callable[[], object], repeats: int = 7, warmup: int = 2) -> float:
    """Median wall time of ``fn()`` in milliseconds, after ``warmup`` untimed calls."""
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def measure_pair(ours: Callable[[], object], reference: Callable[[], object], repeats: int = 7,
                 warmup: int = 2) -> tuple[float, float]:
    """Time two callables interleaved (ours, reference, ours, ...) so drift hits both alike."""
    for _ in range(warmup):
        ours()
        reference()
    a, b = [], []
    for _ in range(repeats):
        for fn, out in ((ours, a), (reference, b)):
            start = time.perf_counter()
            fn()
            out.append((time.perf_counter() - start) * 1e3)
    return statistics.median(a), statistics.median(b)
