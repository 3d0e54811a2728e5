"""Checkers for the exercises of notebook 01 (PPMI, the negative-sampling loss, an analogy query)."""

from __future__ import annotations

from collections.abc import Callable

import torch

from course_lib.checks.core import attempt, checker, close, report
from course_lib.wordvec import WordVectors, ppmi, sgns_loss


@checker
def check_ppmi(fn: Callable[[torch.Tensor], torch.Tensor]) -> bool:
    """``fn(counts)``: max(0, log p(w, c) / (p(w) p(c))) with 0 where a count is 0 (no NaN, no -inf)."""
    name = "check_ppmi"
    cases = [torch.tensor([[0.0, 2.0, 1.0], [2.0, 0.0, 3.0], [1.0, 3.0, 0.0]]),
             torch.tensor([[4.0, 1.0], [1.0, 0.0]]),
             torch.tensor([[1.0, 0.0, 0.0], [0.0, 5.0, 2.0], [0.0, 2.0, 9.0]])]
    for counts in cases:
        got = attempt(name, fn, counts.clone())
        if not isinstance(got, torch.Tensor) or got.shape != counts.shape:
            return report(name, False, f"return a tensor of shape {tuple(counts.shape)}, one value per cell.")
        if not torch.isfinite(got).all():
            return report(name, False, "NaN or inf in the result: a zero count must give 0, not log(0).")
        if (got < 0).any():
            return report(name, False, "negative values: PPMI keeps max(0, PMI).")
        if not close(got, ppmi(counts, alpha=1.0), atol=1e-4):
            return report(name, False, f"wrong values for counts {counts.tolist()}: p(w, c) = count / total, "
                                       "p(w) = row sum / total, p(c) = column sum / total.")
    return report(name, True, "correct: positive PMI, and zero where words never meet.")


@checker
def check_sgns_loss(fn: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]) -> bool:
    """``fn(center (B, C), context (B, C), noise (B, K, C))``: the mean skip-gram negative-sampling loss."""
    name = "check_sgns_loss"
    generator = torch.Generator().manual_seed(0)
    for B, K, C in ((1, 1, 2), (4, 3, 5), (7, 5, 8)):
        center, context = torch.randn(B, C, generator=generator), torch.randn(B, C, generator=generator)
        noise = torch.randn(B, K, C, generator=generator)
        got = attempt(name, fn, center.clone(), context.clone(), noise.clone())
        if not isinstance(got, torch.Tensor) or got.numel() != 1:
            return report(name, False, "return one number (a 0-d tensor): the loss averaged over the batch.")
        want = sgns_loss(center, context, noise)
        if close(got.reshape(()), want * B, atol=1e-4) and B > 1:
            return report(name, False, "you summed over the batch: take the mean over the B pairs.")
        if not close(got.reshape(()), want, atol=1e-4):
            return report(name, False, f"wrong value for B={B}, K={K}: expected {want.item():.4f}, got "
                                       f"{got.item():.4f}. Noise scores enter as log σ(-u_k · v_c).")
    return report(name, True, "correct: pull the true context up, push the K noise words down.")


@checker
def check_analogy(fn: Callable[[WordVectors, str, str, str], str]) -> bool:
    """``fn(vectors, a, b, c)`` returns the word d of a : b :: c : d by 3CosAdd, excluding a, b and c."""
    name = "check_analogy"
    words = ["man", "woman", "king", "queen", "boy", "girl", "apple"]
    # axes: person, female, royal, young
    vectors = torch.tensor([[1.0, 0.0, 0.0, 0.0], [1.0, 1.0, 0.0, 0.0], [1.0, 0.0, 2.0, 0.0], [1.0, 1.0, 2.0, 0.0],
                            [1.0, 0.0, 0.0, 2.0], [1.0, 1.0, 0.0, 2.0], [0.0, 0.0, 0.0, -1.0]])
    wv = WordVectors(words, vectors)
    for a, b, c in (("man", "woman", "king"), ("man", "king", "woman"), ("king", "queen", "boy")):
        got = attempt(name, fn, wv, a, b, c)
        want = wv.analogy(a, b, c)[0][0]
        if got in (a, b, c):
            return report(name, False, f"{a} : {b} :: {c} : {got}? Exclude the three query words from the answer.")
        if got != want:
            return report(name, False, f"{a} : {b} :: {c} : expected {want!r}, got {got!r}. Use unit vectors: "
                                       "b - a + c, then the word of highest cosine.")
    return report(name, True, "correct: king - man + woman lands on queen.")
