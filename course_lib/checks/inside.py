"""Checkers for the exercises of notebook 11 (looking inside BERT): a head's previous-token score, the uniform
baseline, and a position head without positions."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence

import torch

from course_lib.bert import BertModel, head_statistics, offset_mass, top_heads
from course_lib.checks.core import attempt, checker, close, number, report


def _attention(A: int, T: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(A, T, T, generator=g) * 2).softmax(-1)  # (A, T, T), rows sum to 1


def _as_tensor(value) -> torch.Tensor | None:
    try:
        return torch.as_tensor(value, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError):
        return None


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


def previous_token_without_positions(bert: BertModel, tokenizer, examples: Sequence) -> tuple[tuple[int, int], float,
                                                                                              float, float]:
    """The best previous-token head (layer, head) of ``bert`` on ``examples``, its mass, its mass once a copy of the
    model has all its position embeddings set to 0, and the copy's uniform baseline."""
    before = head_statistics(bert, tokenizer, examples)
    layer, head, mass = top_heads(before.patterns["previous token"], 1)[0]
    blind = copy.deepcopy(bert)
    with torch.no_grad():
        blind.embeddings.position_embeddings.weight.zero_()
    after = head_statistics(blind, tokenizer, examples)
    return (layer, head), mass, float(after.patterns["previous token"][layer, head]), after.uniform


@checker
def check_positions_removed(answer: float, bert: BertModel, tokenizer, examples: Sequence) -> bool:
    """``answer``: the previous-token mass of ``bert``'s best previous-token head once the position embeddings of a
    copy are set to 0, measured on ``examples`` with ``head_statistics`` (within 0.001); recomputed here."""
    name = "check_positions_removed"
    value = number(name, answer)
    if not (isinstance(bert, BertModel) and hasattr(tokenizer, "encode") and isinstance(examples, Sequence)
            and len(examples) > 0):
        return report(name, False, "pass the notebook's `bert`, `tokenizer` and `examples` after your answer.")
    (layer, head), before, after, uniform = previous_token_without_positions(bert, tokenizer, examples)
    if abs(value - after) <= 1e-3:
        return report(name, True, f"correct: head L{layer} H{head} gave the previous token {before:.3f}; without "
                                  f"positions {after:.3f}, against a uniform {uniform:.3f}.")
    if abs(value - before) <= 1e-3:
        return report(name, False, "that is the head with its positions: set the position embeddings of a copy to 0 "
                                   "(copy.deepcopy(bert)) and measure again.")
    blind = copy.deepcopy(bert)
    with torch.no_grad():
        blind.embeddings.position_embeddings.weight.zero_()
    best_after = top_heads(head_statistics(blind, tokenizer, examples).patterns["previous token"], 1)[0]
    if abs(value - best_after[2]) <= 1e-3:
        return report(name, False, f"that is the best previous-token head of the copy (L{best_after[0]} "
                                   f"H{best_after[1]}): the question is about the head that was best with positions, "
                                   f"L{layer} H{head}.")
    return report(name, False, f"without positions, head L{layer} H{head} puts another mass on the previous token than "
                               f"{value:.3f}: zero `embeddings.position_embeddings.weight` of a copy, then "
                               "head_statistics(copy, tokenizer, examples).patterns['previous token'][layer, head].")
