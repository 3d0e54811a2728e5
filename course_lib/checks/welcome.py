"""Checkers for the exercises of notebook 00 (softmax, the temperature of a tie, the perplexity bound)."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from course_lib.checks.core import attempt, checker, close, number, report


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


def _top_probability(scores: torch.Tensor, temperature: float) -> float:
    return torch.softmax(scores.double() / temperature, dim=-1).max().item()


def temperature_for(scores: torch.Tensor, share: float) -> float:
    """The temperature T > 0 at which the largest of softmax(scores / T) equals ``share`` (bisection on log T).

    The largest probability falls from 1 (T -> 0) to 1/n (T -> inf), so any share in between has one T.
    """
    low, high = math.log(1e-3), math.log(1e3)
    for _ in range(100):
        mid = (low + high) / 2
        if _top_probability(scores, math.exp(mid)) > share:
            low = mid
        else:
            high = mid
    return math.exp((low + high) / 2)


@checker
def check_half_temperature(answer: float, scores: torch.Tensor) -> bool:
    """``answer``: the temperature at which the most probable word of ``scores`` gets probability 0.5
    (within 1 %), measured by trying temperatures on the notebook's ``scores``."""
    name = "check_half_temperature"
    t = number(name, answer)
    if not isinstance(scores, torch.Tensor) or scores.dim() != 1 or len(scores) < 3:
        return report(name, False, "pass the notebook's `scores` (the four scores of section 3) as the second "
                                   "argument; run section 3 first.")
    if t <= 0:
        return report(name, False, f"a temperature must be positive, got {t}.")
    want = temperature_for(scores, 0.5)
    if abs(t - want) <= 0.01 * want:
        return report(name, True, f"correct: at T = {want:.3f} the favourite's probability has fallen from "
                                  f"{_top_probability(scores, 1.0):.3f} (T = 1) to one half.")
    p = _top_probability(scores, t)
    way = "too low: raise T, which flattens the distribution" if p > 0.5 else "too high: lower T"
    return report(name, False, f"at T = {t:g} the most probable word gets {p:.3f}, not 0.5; {way}.")


def _bound_cases() -> list:
    from course_lib.data import toyworld_corpus

    return [list(toyworld_corpus("validation", seed=seed, num_documents=n).sentences())
            for seed, n in ((0, 12), (3, 5))]


@checker
def check_perplexity_bound(fn: Callable) -> bool:
    """``fn(sentences) -> float``: exp(-Σ log p(s) / N) over toy-world sentences, N = words + one <eos> each."""
    name = "check_perplexity_bound"
    from course_lib.data import toy_world

    world = toy_world()
    for sentences in _bound_cases():
        got = attempt(name, fn, list(sentences))
        value = number(name, got)
        want = world.perplexity_bound(sentences).perplexity
        if math.isclose(value, want, rel_tol=1e-6):
            continue
        logp = sum(s.logprob for s in sentences)
        words = sum(len(s.tokens) for s in sentences)
        per_sentence = math.exp(-sum(s.logprob / (len(s.tokens) + 1) for s in sentences) / len(sentences))
        hints = [(math.exp(-logp / words), "count one <eos> per sentence in N: the model also predicts the end"),
                 (math.exp(logp / (words + len(sentences))), "the sign: perplexity is exp of *minus* the mean "
                                                               "log-probability, so it is at least 1"),
                 (per_sentence, "average over all tokens together, not sentence by sentence"),
                 (-logp / (words + len(sentences)), "that is the cross-entropy in nats: take its exp()")]
        hint = next((h for v, h in hints if math.isclose(value, v, rel_tol=1e-6)), "exp(-Σ log p(s) / N)")
        return report(name, False, f"for {len(sentences)} sentences expected {want:.4f}, got {value:.4f}: {hint}.")
    return report(name, True, "correct: no model can beat this perplexity on these sentences.")
