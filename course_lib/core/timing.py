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


def measure_ms(fn: Callable[[], object], repeats: int = 5, warmup: int = 1) -> float:
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


def step_times(module: nn.Module, lengths: Sequence[int], batch_size: int, width: int,
               backward: bool = True, repeats: int = 5, warmup: int = 1, seed: int = 0) -> dict[int, float]:
    """Milliseconds per forward (+ backward) step of ``module`` on random input (B, T, width), per T.

    ``module(x)`` may return a tensor or a tuple whose first item is the (B, T, C) output (``nn.LSTM``,
    attention modules that also return weights). Timing starts after ``warmup`` calls at each length.
    """
    g = torch.Generator().manual_seed(seed)
    device = next(module.parameters()).device
    out: dict[int, float] = {}
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

        if not backward:
            with torch.no_grad():
                out[T] = measure_ms(step, repeats, warmup)
        else:
            out[T] = measure_ms(step, repeats, warmup)
    return out
