"""Wall-clock timing of sequence models against sequence length (notebooks 02 and 08 draw it).

>>> times = step_times(nn.LSTM(64, 64, batch_first=True), lengths=[8, 16, 32], batch_size=16, width=64)
>>> times[32] > times[8]   # an LSTM does T steps one after the other
True
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence

import torch
from torch import nn

from course_lib.core.cache import torch_threads

STATISTICS = ("median", "min")


def measure_ms(fn: Callable[[], object], repeats: int = 5, warmup: int = 1, statistic: str = "median",
               max_seconds: float | None = None) -> float:
    """Wall time of ``fn()`` in milliseconds over ``repeats`` calls, after ``warmup`` untimed calls.

    ``statistic="median"`` is the typical call; ``"min"`` the fastest one, the better estimate of what
    the hardware can do when other programs share the cores (they can only slow a call down).
    ``max_seconds`` stops repeating once that much time is spent (at least one timed call is made).
    """
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    if statistic not in STATISTICS:
        raise ValueError(f"statistic must be one of {STATISTICS}, got {statistic!r}")
    for _ in range(warmup):
        fn()
    times: list[float] = []
    budget_start = time.perf_counter()
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
        if max_seconds is not None and time.perf_counter() - budget_start > max_seconds:
            break
    return min(times) if statistic == "min" else statistics.median(times)


def step_times(module: nn.Module, lengths: Sequence[int], batch_size: int, width: int,
               backward: bool = True, repeats: int = 5, warmup: int = 1, seed: int = 0,
               threads: int | None = None, statistic: str = "median",
               max_seconds: float | None = None) -> dict[int, float]:
    """Milliseconds per forward (+ backward) step of ``module`` on random input (B, T, width), per T.

    ``module(x)`` may return a tensor or a tuple whose first item is the (B, T, C) output (``nn.LSTM``,
    attention modules that also return weights). Timing starts after ``warmup`` calls at each length.
    ``threads``: run on that many torch CPU threads (None: as set). On CUDA each call ends with a
    synchronize, so the time is the kernels' and not only their launch. ``statistic`` and
    ``max_seconds`` (per length) as in ``measure_ms``.
    """
    if threads is not None and threads < 1:
        raise ValueError(f"threads must be >= 1 or None, got {threads}")
    g = torch.Generator().manual_seed(seed)
    device = next(module.parameters()).device
    out: dict[int, float] = {}
    with torch_threads(threads or torch.get_num_threads()):
        for T in lengths:
            x = torch.randn(batch_size, T, width, generator=g).to(device)

            def step(x: torch.Tensor = x) -> None:
                y = module(x)
                y = y[0] if isinstance(y, tuple) else y
                if backward:
                    module.zero_grad(set_to_none=True)
                    y.sum().backward()
                if device.type == "cuda":
                    torch.cuda.synchronize(device)

            with torch.set_grad_enabled(backward):
                out[T] = measure_ms(step, repeats, warmup, statistic, max_seconds)
    return out
