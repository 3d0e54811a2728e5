"""A tiny benchmark harness: ours vs a reference, in one process, median of repeats after warm-up.

Each ``benchmarks/bench_*.py`` defines ``rows() -> Iterable[Row]``; ``benchmarks/run.py`` prints
them as one table. A row whose reference is not installed is reported as skipped, with the reason.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

from course_lib.core import measure_ms


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
    return measure_ms(fn, repeats=repeats, warmup=warmup)


def fwd_bwd_step(module, call: Callable, x) -> Callable[[], None]:
    """One forward + backward through ``call(x)`` (a tensor with ``requires_grad``), gradients cleared each time."""
    def run() -> None:
        module.zero_grad(set_to_none=True)
        x.grad = None
        call(x).sum().backward()
    return run


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
