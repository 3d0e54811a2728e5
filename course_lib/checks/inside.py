"""Checkers for the exercises of notebook 11 (looking inside BERT): a head's mass on given keys, its
previous-token score, the uniform baseline, and within- vs across-sense cosine."""

from __future__ import annotations

from collections.abc import Callable

import torch

from course_lib.bert import mass_to_keys, offset_mass
from course_lib.checks.core import attempt, checker, close, report
from course_lib.elmo import within_across_cosine


def _attention(A: int, T: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(A, T, T, generator=g) * 2).softmax(-1)  # (A, T, T), rows sum to 1


def _as_tensor(value) -> torch.Tensor | None:
    try:
        return torch.as_tensor(value, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError):
        return None


@checker
def check_mass_to(fn: Callable[[torch.Tensor, list[int]], torch.Tensor]) -> bool:
    """``fn(attention (A, T, T), key_positions) -> (A,)``: for each head, the weight every query puts on the
    keys at ``key_positions`` (summed over those keys), averaged over all T queries."""
    name = "check_mass_to"
    for A, T, keys, seed in ((2, 5, [4], 0), (3, 7, [0, 6], 1), (1, 4, [1, 2], 2), (4, 9, [8], 3)):
        att = _attention(A, T, seed)
        got = attempt(name, fn, att.clone(), list(keys))
        mask = torch.zeros(1, T, dtype=torch.bool)
        mask[0, keys] = True
        want = mass_to_keys(att[None, None], mask, torch.ones(1, T, dtype=torch.bool))[0, 0]  # (A,)
        got_t = _as_tensor(got)
        if got_t is None or got_t.shape != want.shape:
            return report(name, False, f"return one number per head, shape {tuple(want.shape)}, got {got!r:.60}")
        if close(got_t, want, atol=1e-5):
            continue
        if close(got_t, att[:, :, keys].mean((1, 2)).double(), atol=1e-5) and len(keys) > 1:
            return report(name, False, "sum over the key positions (the mass on all of them), then average over "
                                       "the queries; you averaged over the keys too.")
        if close(got_t, att[:, keys, :].sum(1).mean(-1).double(), atol=1e-5):
            return report(name, False, "attention[h, query, key]: the keys are the last index, the queries the "
                                       "middle one.")
        return report(name, False, f"A={A}, T={T}, keys {keys}: expected {want.tolist()}, got {got_t.tolist()}.")
    return report(name, True, "correct: sum the weights on the keys, average over the queries.")


@checker
def check_previous_token_mass(fn: Callable[[torch.Tensor], torch.Tensor]) -> bool:
    """``fn(attention (A, T, T)) -> (A,)``: the weight of query t on key t - 1, averaged over t = 1 … T-1."""
    name = "check_previous_token_mass"
    for A, T, seed in ((2, 5, 0), (3, 8, 1), (1, 2, 2), (4, 6, 3)):
        att = _attention(A, T, seed)
        got = attempt(name, fn, att.clone())
        want = offset_mass(att[None, None], torch.ones(1, T, dtype=torch.bool), -1)[0, 0]  # (A,)
        got_t = _as_tensor(got)
        if got_t is None or got_t.shape != want.shape:
            return report(name, False, f"return one number per head, shape {tuple(want.shape)}, got {got!r:.60}")
        if close(got_t, want, atol=1e-5):
            continue
        if close(got_t, att.diagonal(offset=1, dim1=-2, dim2=-1).mean(-1).double(), atol=1e-5):
            return report(name, False, "that is the *next* token: attention[h, t, t+1]. The previous token is "
                                       "attention[h, t, t-1], the diagonal just below the main one (offset=-1).")
        if close(got_t, att.diagonal(offset=-1, dim1=-2, dim2=-1).sum(-1).double() / T, atol=1e-5):
            return report(name, False, "average over the T-1 queries that have a previous token, not over all T.")
        return report(name, False, f"A={A}, T={T}: expected {want.tolist()}, got {got_t.tolist()}.")
    return report(name, True, "correct: the diagonal below the main one, averaged over t = 1 … T-1.")


@checker
def check_uniform_baseline(fn: Callable[[list[int]], float]) -> bool:
    """``fn(lengths) -> float``: the weight a head that attends evenly gives one key, averaged over sentences
    of the given lengths (in tokens, [CLS] and [SEP] included)."""
    name = "check_uniform_baseline"
    for lengths in ([10], [4, 8], [5, 5, 20], [2, 3, 7, 11]):
        got = attempt(name, fn, list(lengths))
        want = sum(1 / T for T in lengths) / len(lengths)
        if not isinstance(got, (int, float)) and not (isinstance(got, torch.Tensor) and got.numel() == 1):
            return report(name, False, f"return one number, got {got!r:.60}")
        got = float(got)
        if abs(got - want) < 1e-9:
            continue
        if abs(got - len(lengths) / sum(lengths)) < 1e-9 and len(set(lengths)) > 1:
            return report(name, False, f"lengths {lengths}: average 1/T over the sentences (each sentence's "
                                       f"baseline), not 1 over the average length: expected {want:.4f}.")
        return report(name, False, f"lengths {lengths}: expected {want:.4f}, got {got:.4f}.")
    return report(name, True, "correct: a uniform head gives each of T keys 1/T; averaged over the sentences.")


@checker
def check_within_across(fn: Callable[[torch.Tensor, list[int]], tuple[float, float]]) -> bool:
    """``fn(x (N, H), senses) -> (within, across)``: subtract the mean row, then the mean cosine over pairs of
    different rows with the same sense, and over pairs with different senses."""
    name = "check_within_across"
    g = torch.Generator().manual_seed(0)
    cases = []
    for N, H, shift in ((6, 4, 2.0), (9, 5, 0.5), (8, 3, 1.0)):
        senses = [i % 2 for i in range(N)]
        x = torch.randn(N, H, generator=g) + 5.0  # a large shared part: raw cosines all close to 1
        x[torch.tensor(senses, dtype=torch.bool), 0] += shift
        cases.append((x, senses))
    for x, senses in cases:
        got = attempt(name, fn, x.clone(), list(senses))
        if not (isinstance(got, (tuple, list)) and len(got) == 2):
            return report(name, False, f"return a pair (within, across), got {got!r:.60}")
        try:
            got = (float(got[0]), float(got[1]))
        except (TypeError, ValueError):
            return report(name, False, f"return two numbers, got {got!r:.60}")
        want = within_across_cosine(x, senses, centered=True)
        if max(abs(a - b) for a, b in zip(got, want, strict=True)) < 1e-5:
            continue
        raw = within_across_cosine(x, senses, centered=False)
        if max(abs(a - b) for a, b in zip(got, raw, strict=True)) < 1e-5:
            return report(name, False, "subtract the mean row first: without it every cosine is close to 1 "
                                       f"(you got {got[0]:.3f}, {got[1]:.3f}).")
        if abs(got[0] - want[0]) > 1e-5 and abs(got[0] - _with_self_pairs(x, senses)) < 1e-5:
            return report(name, False, "leave out the pairs of a row with itself (cosine 1) from 'within'.")
        return report(name, False, f"expected (within, across) = ({want[0]:.4f}, {want[1]:.4f}), "
                                   f"got ({got[0]:.4f}, {got[1]:.4f}).")
    return report(name, True, "correct: centred, then same-sense pairs (never a row with itself) vs different-sense pairs.")


def _with_self_pairs(x: torch.Tensor, senses: list[int]) -> float:
    x = torch.nn.functional.normalize(x.double() - x.double().mean(0), dim=-1)
    labels = torch.tensor(senses)
    return float((x @ x.T)[labels[:, None] == labels[None, :]].mean())
