"""Checkers for the exercises of notebook 12 (design choices): the causal mask, next-token targets,
what each model family can see, and perplexity from per-token log-probabilities."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from course_lib.attention import causal_mask
from course_lib.checks.core import attempt, checker, report

KINDS = ("gpt", "elmo-forward", "elmo-backward", "elmo", "bert")


@checker
def check_causal_mask(fn: Callable[[int], torch.Tensor]) -> bool:
    """``fn(T) -> (T, T)`` booleans: True where query t may attend to key s, i.e. s <= t."""
    name = "check_causal_mask"
    for T in (1, 3, 6):
        got = attempt(name, fn, T)
        want = causal_mask(T)
        if not isinstance(got, torch.Tensor) or got.shape != want.shape:
            return report(name, False, f"return a (T, T) tensor; for T={T} got {got!r:.60}")
        if got.dtype != torch.bool:
            return report(name, False, f"return booleans (True = may attend), got dtype {got.dtype}")
        if torch.equal(got, want):
            continue
        if torch.equal(got, want.T):
            return report(name, False, "transposed: rows are queries, columns keys; query t sees keys 0 .. t.")
        if torch.equal(got, ~want):
            return report(name, False, "inverted: True means *may* attend, so the lower triangle is True.")
        return report(name, False, f"T={T}: expected {want.int().tolist()}, got {got.int().tolist()}")
    return report(name, True, "correct: the lower triangle, diagonal included.")


def _next_token_case(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(5, 50, (3, 6), generator=g)
    mask = torch.ones_like(ids)
    mask[1, 4:] = 0
    mask[2, 2:] = 0
    ids[mask == 0] = 0
    return ids, mask


def _next_token_answer(ids: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    targets = ids[:, 1:].masked_fill(mask[:, 1:] == 0, -100)
    return ids[:, :-1], targets


@checker
def check_next_token_targets(fn: Callable[[torch.Tensor, torch.Tensor], tuple]) -> bool:
    """``fn(ids (B, T), attention_mask (B, T)) -> (inputs (B, T-1), targets (B, T-1))``: each position
    predicts the next token; a target that is padding is -100 (not scored)."""
    name = "check_next_token_targets"
    for seed in (0, 1):
        ids, mask = _next_token_case(seed)
        got = attempt(name, fn, ids.clone(), mask.clone())
        inputs, targets = _next_token_answer(ids, mask)
        if not (isinstance(got, tuple) and len(got) == 2 and all(isinstance(x, torch.Tensor) for x in got)):
            return report(name, False, f"return a pair of tensors (inputs, targets), got {got!r:.60}")
        if got[0].shape != inputs.shape or got[1].shape != targets.shape:
            return report(name, False, f"both should be (B, T - 1) = {tuple(inputs.shape)}, got "
                                       f"{tuple(got[0].shape)} and {tuple(got[1].shape)}")
        if torch.equal(got[1], ids[:, 1:]):
            return report(name, False, "padding targets must be -100, so the loss skips them.")
        if torch.equal(got[0], ids[:, 1:]) or torch.equal(got[1], ids[:, :-1].masked_fill(mask[:, :-1] == 0, -100)):
            return report(name, False, "shifted the wrong way: the input at t is token t, its target token t + 1.")
        if not (torch.equal(got[0], inputs) and torch.equal(got[1], targets)):
            return report(name, False, f"expected targets {targets.tolist()}, got {got[1].tolist()}")
    return report(name, True, "correct: inputs ids[:, :-1], targets ids[:, 1:] with padding as -100.")


def _visible(kind: str, t: int, T: int) -> set[int]:
    return {"gpt": set(range(t + 1)), "elmo-forward": set(range(t + 1)), "elmo-backward": set(range(t, T)),
            "elmo": set(range(T)), "bert": set(range(T))}[kind]


@checker
def check_visible_positions(fn: Callable[[str, int, int], set]) -> bool:
    """``fn(kind, t, T) -> set`` of the positions whose words the representation of position t depends on,
    for ``kind`` in ``KINDS`` ("elmo" is the concatenation of both directions)."""
    name = "check_visible_positions"
    for kind in KINDS:
        for t, T in ((0, 4), (2, 5), (4, 5)):
            got = attempt(name, fn, kind, t, T)
            try:
                got_set = {int(i) for i in got}
            except (TypeError, ValueError):
                return report(name, False, f"return a set of positions, got {got!r:.60}")
            want = _visible(kind, t, T)
            if got_set != want:
                hint = " (the word itself counts)" if got_set | {t} == want else ""
                return report(name, False, f"{kind} at t={t} of T={T}: expected {sorted(want)}, "
                                           f"got {sorted(got_set)}{hint}")
    return report(name, True, "correct: only BERT and ELMo's concatenation see both sides.")


@checker
def check_perplexity(fn: Callable[[list[list[float]]], float]) -> bool:
    """``fn(logprobs) -> float``: the perplexity of sentences given each token's natural log-probability
    (one list per sentence): exp of minus the mean over *all tokens* (not over sentences)."""
    name = "check_perplexity"
    cases = ([[-1.0, -2.0], [-0.5]], [[-0.1, -0.2, -0.3, -3.0]], [[-2.0], [-1.0, -1.0, -1.0]])
    for logprobs in cases:
        got = attempt(name, fn, [list(x) for x in logprobs])
        flat = [x for s in logprobs for x in s]
        want = math.exp(-sum(flat) / len(flat))
        try:
            value = float(got)
        except (TypeError, ValueError):
            return report(name, False, f"return a number, got {got!r:.60}")
        per_sentence = math.exp(-sum(sum(s) / len(s) for s in logprobs) / len(logprobs))
        if abs(value - want) < 1e-6:
            continue
        if abs(value - per_sentence) < 1e-6:
            return report(name, False, "average over all tokens together, not sentence by sentence.")
        if abs(value - math.exp(sum(flat) / len(flat))) < 1e-6:
            return report(name, False, "minus: perplexity is exp of the *negative* mean log-probability (>= 1).")
        return report(name, False, f"for {logprobs} expected {want:.4f}, got {value:.4f}")
    return report(name, True, "correct: exp(-mean log p) over every predicted token.")
