"""Checkers for the exercises of notebook 05 (soft lookup, masked softmax, attention pooling, entropy)."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from course_lib.checks.core import attempt, checker, close, report


def _pair(got: object) -> tuple[torch.Tensor, torch.Tensor] | None:
    """``got`` as (tensor, tensor), or None when it is not a pair of tensors."""
    if isinstance(got, (tuple, list)) and len(got) == 2 and all(isinstance(t, torch.Tensor) for t in got):
        return got[0], got[1]
    return None


@checker
def check_soft_lookup(fn: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], tuple]) -> bool:
    """``fn(query (d,), keys (n, d), values (n, m)) -> (out (m,), weights (n,))``: softmax(K q / √d), then V."""
    name = "check_soft_lookup"
    g = torch.Generator().manual_seed(0)
    for d, n, m in ((2, 3, 1), (4, 5, 3), (16, 7, 2)):
        q, keys, values = torch.randn(d, generator=g), torch.randn(n, d, generator=g), torch.randn(n, m, generator=g)
        got = attempt(name, fn, q.clone(), keys.clone(), values.clone())
        pair = _pair(got)
        if pair is None:
            return report(name, False, "return a pair (out, weights) of tensors.")
        out, weights = pair
        want_w = torch.softmax(keys @ q / math.sqrt(d), dim=-1)
        if weights.shape != (n,) or out.shape != (m,):
            return report(name, False, f"with {n} keys and values of size {m} expected shapes ({m},) and ({n},), "
                                       f"got {tuple(out.shape)} and {tuple(weights.shape)}.")
        if close(weights, torch.softmax(keys @ q, dim=-1)) and not close(weights, want_w):
            return report(name, False, f"the weights are softmax(K q) without scaling: divide the scores by √d "
                                       f"(here √{d}).")
        if not close(weights, want_w):
            return report(name, False, "wrong weights: scores = keys @ query / √d, then a softmax over the n keys.")
        if not close(out, want_w @ values):
            return report(name, False, "the weights are right, but the output must be the weighted average of "
                                       "the values (weights @ values).")
    return report(name, True, "correct: a soft lookup returns a weighted average of the values.")


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


@checker
def check_entropy(fn: Callable[[torch.Tensor], torch.Tensor]) -> bool:
    """``fn(weights (..., T)) -> (...)``: entropy in nats, with 0 · log 0 = 0."""
    name = "check_entropy"
    cases = [
        torch.full((4,), 0.25),  # uniform: log 4
        torch.tensor([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]]),  # zeros must not give NaN
        torch.softmax(torch.randn(2, 3, 7, generator=torch.Generator().manual_seed(3)), dim=-1),
    ]
    for p in cases:
        got = attempt(name, fn, p.clone())
        want = -(p * p.clamp_min(1e-30).log()).sum(-1)
        if not isinstance(got, torch.Tensor) or got.shape != want.shape:
            return report(name, False, f"for weights of shape {tuple(p.shape)} expected shape {tuple(want.shape)} "
                                       "(one entropy per row).")
        if torch.isnan(got).any():
            return report(name, False, "NaN for a row with a zero weight: 0 · log 0 counts as 0 "
                                       "(e.g. torch.xlogy(p, p), or clamp p before the log).")
        if close(got, want / math.log(2), atol=1e-4) and not close(got, want, atol=1e-4):
            return report(name, False, "that is the entropy in bits: use the natural log (nats).")
        if close(got, -want, atol=1e-4) and not close(got, want, atol=1e-4):
            return report(name, False, "the sign is wrong: entropy = -Σ p log p is never negative.")
        if not close(got, want, atol=1e-4):
            return report(name, False, "wrong values: entropy = -Σ p log p over the last dimension.")
    return report(name, True, "correct: log T for uniform weights, 0 for a one-hot row.")
