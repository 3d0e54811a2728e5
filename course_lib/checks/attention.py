"""Checkers for the exercises of notebook 05 (masked softmax, attention pooling, gradients without the √d)."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from course_lib.checks.core import attempt, checker, close, number, report


def _pair(got: object) -> tuple[torch.Tensor, torch.Tensor] | None:
    """``got`` as (tensor, tensor), or None when it is not a pair of tensors."""
    if isinstance(got, (tuple, list)) and len(got) == 2 and all(isinstance(t, torch.Tensor) for t in got):
        return got[0], got[1]
    return None


@checker
def check_masked_softmax(fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> bool:
    """``fn(scores (..., T), mask)`` with True = may attend: masked weights exactly 0, rows summing to 1."""
    name = "check_masked_softmax"
    g = torch.Generator().manual_seed(1)
    scores = torch.randn(2, 4, 5, generator=g)
    cases = [
        (scores, torch.ones(4, 5, dtype=torch.bool).tril()),  # broadcasts over the batch
        (scores, torch.tensor([[True, True, True, False, False], [True, False, True, True, True]])[:, None, :]),
        (torch.tensor([[100.0, 0.0, -100.0]]), torch.tensor([[False, True, True]])),  # large scores: no NaN
    ]
    for s, mask in cases:
        got = attempt(name, fn, s.clone(), mask.clone())
        want = torch.softmax(s.masked_fill(~mask, float("-inf")), dim=-1)
        if not isinstance(got, torch.Tensor) or got.shape != want.shape:
            return report(name, False, f"expected a tensor of shape {tuple(want.shape)}, "
                                       f"got {type(got).__name__} {tuple(getattr(got, 'shape', ()))}.")
        if torch.isnan(got).any():
            return report(name, False, "NaN in the weights: fill the masked scores with -inf, then call "
                                       "softmax (a hand-made exp() overflows for large scores).")
        if (got.masked_select(~mask.expand_as(got)) != 0).any():
            if close(got, torch.softmax(s.masked_fill(mask, float("-inf")), dim=-1)):
                return report(name, False, "the mask is read the wrong way round: True means *may* attend.")
            return report(name, False, "masked positions must get exactly 0: fill their scores with -inf "
                                       "before the softmax (multiplying by 0 afterwards breaks the sum).")
        if not close(got.sum(-1), torch.ones(want.shape[:-1])):
            return report(name, False, "rows must sum to 1: masking after the softmax (multiplying by the mask) "
                                       "leaves less; fill the masked scores with -inf before it, so they get exactly 0.")
        if not close(got, want):
            return report(name, False, "wrong values: softmax over the last dimension of the masked scores.")
    return report(name, True, "correct: masked keys get exactly 0 and every row still sums to 1.")


@checker
def check_attention_pool(fn: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], tuple]) -> bool:
    """``fn(x (B, T, d), w (d,), attention_mask (B, T)) -> (pooled (B, d), weights (B, T))``, padding ignored."""
    name = "check_attention_pool"
    g = torch.Generator().manual_seed(2)
    x, w = torch.randn(3, 6, 4, generator=g), torch.randn(4, generator=g)
    attention_mask = torch.tensor([[1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0], [1, 0, 0, 0, 0, 0]])
    got = attempt(name, fn, x.clone(), w.clone(), attention_mask.clone())
    pair = _pair(got)
    if pair is None:
        return report(name, False, "return a pair (pooled, weights) of tensors.")
    pooled, weights = pair
    if pooled.shape != (3, 4) or weights.shape != (3, 6):
        return report(name, False, f"expected shapes (3, 4) and (3, 6) for x of shape (3, 6, 4), got "
                                   f"{tuple(pooled.shape)} and {tuple(weights.shape)}.")
    want_w = torch.softmax((x @ w).masked_fill(attention_mask == 0, float("-inf")), dim=-1)
    if (weights[attention_mask == 0] != 0).any():
        return report(name, False, "padding got weight: mask the scores where attention_mask is 0 before the softmax.")
    if close(weights, torch.softmax((x @ w / 2).masked_fill(attention_mask == 0, float("-inf")), dim=-1)):
        return report(name, False, "the scores are scaled: here the score of a word is simply x · w.")
    if not close(weights, want_w):
        return report(name, False, "wrong weights: score_t = x_t · w, softmax over the real words of each row.")
    if not close(pooled, (want_w[:, :, None] * x).sum(1)):
        return report(name, False, "the weights are right but pooled should be Σ_t weight_t · x_t.")
    return report(name, True, "correct: one learned vector decides where each sentence looks.")


def stalled_share(d: int, scale: bool, seed: int, n: int = 2000, T: int = 16, threshold: float = 0.01) -> float:
    """Share of ``n`` random queries (against ``T`` random keys of size ``d``) whose scores get a gradient of norm
    below ``threshold`` from the loss Σ_t softmax(scores)_t · v_t, with or without the 1/√d; draws q, k, v in that
    order from ``torch.Generator().manual_seed(seed)``, as exercise 3 of notebook 05 says."""
    g = torch.Generator().manual_seed(seed)
    q, k = torch.randn(n, 1, d, generator=g), torch.randn(n, T, d, generator=g)
    v = torch.randn(n, T, generator=g)
    scores = ((q @ k.transpose(1, 2))[:, 0] / (math.sqrt(d) if scale else 1.0)).requires_grad_(True)  # (n, T)
    (scores.softmax(dim=-1) * v).sum().backward()
    return (scores.grad.norm(dim=-1) < threshold).float().mean().item()


@checker
def check_unscaled_gradients(answer: float, seed: int) -> bool:
    """``answer``: the share of 2,000 queries at d = 512 whose scores get a gradient below 0.01 when the √d is
    removed; recomputed from ``seed`` (within 0.04, so another draw of the same experiment also passes)."""
    name = "check_unscaled_gradients"
    value = number(name, answer)
    if isinstance(seed, bool) or not isinstance(seed, int):
        return report(name, False, "pass the notebook's `seed` after your answer.")
    if not 0 <= value <= 1:
        return report(name, False, f"a share of the queries is between 0 and 1, got {value}.")
    want = stalled_share(512, scale=False, seed=seed)
    if abs(value - want) <= 0.04:
        return report(name, True, f"correct: without the √d, {want:.0%} of the queries hardly learn (gradient below "
                                  f"0.01); with it, {stalled_share(512, scale=True, seed=seed):.0%}.")
    if value <= 0.04 and want > 0.1:
        return report(name, False, "no query stalls: that is with the √d. Remove the division (scores = q · k) and "
                                   "measure again.")
    if abs(value - stalled_share(32, scale=False, seed=seed)) <= 0.04:
        return report(name, False, "that looks like d = 32: the exercise asks for d = 512.")
    return report(name, False, f"you found {value:.3f}; without the √d at d = 512 about {want:.2f} of the queries get "
                               "a gradient of norm below 0.01 on their 16 scores (loss: (softmax(scores) * v).sum()).")
