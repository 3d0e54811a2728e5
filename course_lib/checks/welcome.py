"""Checkers for the exercises of notebook 00 (softmax, temperature, reproducible draws)."""

from __future__ import annotations

from collections.abc import Callable

import torch

from course_lib.checks.core import attempt, checker, close, report


@checker
def check_softmax(fn: Callable[[torch.Tensor], torch.Tensor]) -> bool:
    """The learner's softmax over the last dimension: values, shape, and no overflow for large inputs."""
    name = "check_softmax"
    cases = [
        torch.tensor([1.0, 2.0, 3.0]),
        torch.tensor([[0.0, 0.0], [5.0, -5.0]]),
        torch.tensor([1000.0, 1001.0, 1002.0]),  # exp(1000) overflows unless the max is subtracted
    ]
    for x in cases:
        got = attempt(name, fn, x.clone())
        if not isinstance(got, torch.Tensor) or got.shape != x.shape:
            return report(name, False, f"for input of shape {tuple(x.shape)} expected a tensor of the same shape, "
                                       f"got {type(got).__name__} {tuple(getattr(got, 'shape', ()))}.")
        if torch.isnan(got).any():
            return report(name, False, f"NaN for input {x.tolist()}: subtract the maximum before exp().")
        if not close(got, torch.softmax(x, dim=-1)):
            return report(name, False, f"wrong values for {x.tolist()}: got {got.tolist()}; "
                                       "each row should be exp(x) / exp(x).sum() over the last dimension.")
    return report(name, True, "correct.")


@checker
def check_temperature(fn: Callable[[torch.Tensor, float], torch.Tensor]) -> bool:
    """``fn(scores, temperature)``: softmax(scores / T); low T approaches one-hot, high T uniform."""
    name = "check_temperature"
    scores = torch.tensor([2.0, 1.0, 0.5, -1.0])
    for t in (0.05, 1.0, 3.0, 100.0):
        got = attempt(name, fn, scores.clone(), t)
        if not close(got, torch.softmax(scores / t, dim=-1), atol=1e-4):
            return report(name, False, f"wrong values at temperature {t}: divide the scores by T, then softmax.")
    return report(name, True, "correct: low temperature sharpens, high temperature flattens.")


@checker
def check_reproducible(fn: Callable[[int], torch.Tensor]) -> bool:
    """``fn(seed)`` must return the same random tensor for the same seed and another for another seed."""
    name = "check_reproducible"
    first = attempt(name, fn, 0)
    second = attempt(name, fn, 0)
    other = attempt(name, fn, 1)
    if not all(isinstance(t, torch.Tensor) for t in (first, second, other)):
        return report(name, False, "return a torch tensor drawn at random, e.g. torch.randn(3).")
    if not torch.equal(first, second):
        return report(name, False, "two calls with seed 0 gave different tensors: call seed_everything(seed) first.")
    if torch.equal(first, other):
        return report(name, False, "seeds 0 and 1 gave the same tensor: use the seed you are given.")
    return report(name, True, "correct: same seed, same numbers.")
