"""Checkers for the exercises of notebook 10 (fine-tuning BERT): span decoding, span F1, labels on first
pieces, and the parameter count of feature-based use."""

from __future__ import annotations

from collections.abc import Callable

import torch

from course_lib.bert import best_spans, span_f1
from course_lib.checks.core import attempt, checker, report


@checker
def check_best_span(fn: Callable[[torch.Tensor, torch.Tensor, int], tuple[int, int] | None]) -> bool:
    """``fn(start (T,), end (T,), max_answer_length) -> (s, e)`` or ``None`` (no answer).

    Position 0 is [CLS]: a span lies in 1..T-1, has s <= e < s + max_answer_length and scores
    start[s] + end[e]; the answer is None when start[0] + end[0] beats every allowed span.
    """
    name = "check_best_span"
    cases = [
        (torch.tensor([0.0, 1.0, 5.0, 0.0, 0.0]), torch.tensor([0.0, 4.0, 0.0, 3.0, 0.0]), 30),  # best pair has s > e
        (torch.tensor([9.0, 1.0, 2.0, 0.0]), torch.tensor([9.0, 0.0, 1.0, 0.0]), 30),  # [CLS] wins: no answer
        (torch.tensor([0.0, 3.0, 0.0, 0.0, 0.0]), torch.tensor([0.0, 0.0, 0.0, 0.0, 4.0]), 2),  # too long
        (torch.tensor([-5.0, 2.0, 0.0]), torch.tensor([-5.0, 0.0, 1.0]), 30),
    ]
    g = torch.Generator().manual_seed(0)
    cases += [(torch.randn(9, generator=g) * 2, torch.randn(9, generator=g) * 2, 3) for _ in range(20)]
    for start, end, max_len in cases:
        got = attempt(name, fn, start.clone(), end.clone(), max_len)
        want = best_spans(start[None], end[None], max_answer_length=max_len)[0]
        if got is not None and not (isinstance(got, (tuple, list)) and len(got) == 2):
            return report(name, False, f"return a pair (s, e) of ints or None, got {got!r}.")
        got = None if got is None else (int(got[0]), int(got[1]))
        if got == want:
            continue
        if got is not None and got[0] > got[1]:
            return report(name, False, f"span {got} starts after it ends: only s <= e is allowed.")
        if got is not None and got[1] - got[0] >= max_len:
            return report(name, False, f"span {got} is longer than max_answer_length={max_len}: keep e < s + "
                                       f"max_answer_length.")
        if got is not None and 0 in got:
            return report(name, False, "position 0 is [CLS]: it is never part of an answer, only the no-answer "
                                       "score start[0] + end[0].")
        if want is None:
            return report(name, False, f"start {start.tolist()}, end {end.tolist()}: the [CLS] score "
                                       f"{(start[0] + end[0]).item():.1f} beats every span, so the answer is None.")
        return report(name, False, f"start {start.tolist()}, end {end.tolist()}, max length {max_len}: expected "
                                   f"{want}, got {got}.")
    return report(name, True, "correct: the best legal span, and None when [CLS] wins (SQuAD 2.0).")


@checker
def check_span_f1(fn: Callable[[list[str], list[str]], float]) -> bool:
    """``fn(predicted words, gold words) -> float``: SQuAD's word-overlap F1; [] is "no answer"."""
    name = "check_span_f1"
    cases = [
        (["old", "cows"], ["old", "cows"]),
        (["the", "old", "cows"], ["old", "cows"]),
        (["cows"], ["old", "cows"]),
        (["red", "boats"], ["old", "cows"]),
        ([], []),
        ([], ["old", "cows"]),
        (["old", "cows"], []),
        (["a", "a", "b"], ["a", "b", "b"]),
    ]
    for predicted, gold in cases:
        got = attempt(name, fn, list(predicted), list(gold))
        want = span_f1(predicted, gold)
        if not isinstance(got, (int, float)) or isinstance(got, bool):
            return report(name, False, f"return a float, got {type(got).__name__}.")
        if abs(float(got) - want) > 1e-6:
            if not predicted and not gold:
                hint = "two empty answers agree (both say 'no answer'): F1 = 1."
            elif not predicted or not gold:
                hint = "when only one answer is empty, F1 = 0."
            elif predicted == ["a", "a", "b"]:
                hint = "count shared words with multiplicity: Counter(p) & Counter(g)."
            else:
                hint = "precision = shared / len(predicted), recall = shared / len(gold), F1 = 2PR / (P + R)."
            return report(name, False, f"F1({predicted}, {gold}) should be {want:.3f}, got {float(got):.3f}: {hint}")
    return report(name, True, "correct: partial credit for overlapping words, and 'no answer' counted.")


@checker
def check_first_piece_labels(fn: Callable[[list[int], list[int], int], list[int]]) -> bool:
    """``fn(word_starts, labels, length) -> list of length ints``: ``[CLS]`` at 0, word w's label at
    ``1 + word_starts[w]``, -100 everywhere else (later pieces, [CLS], [SEP])."""
    name = "check_first_piece_labels"
    cases = [
        ([0, 1, 4], [7, 3, 5], 7),  # the unaffable bank -> [CLS] the un ##aff ##able bank [SEP]
        ([0, 1, 2], [1, 2, 3], 5),  # one piece per word
        ([0, 2], [4, 4], 6),
    ]
    for starts, labels, length in cases:
        got = attempt(name, fn, list(starts), list(labels), length)
        want = [-100] * length
        for s, y in zip(starts, labels, strict=True):
            want[1 + s] = y
        got = got.tolist() if isinstance(got, torch.Tensor) else got
        if not isinstance(got, list) or len(got) != length:
            return report(name, False, f"return a list of {length} ints (one per input position).")
        if got == want:
            continue
        shifted = [-100] * length
        for s, y in zip(starts, labels, strict=True):
            shifted[s] = y
        if got == shifted:
            return report(name, False, "the pieces start after [CLS]: word w's first piece is at 1 + word_starts[w].")
        return report(name, False, f"word starts {starts}, labels {labels}: expected {want}, got {got}.")
    return report(name, True, "correct: one scored position per word, -100 on the rest.")


@checker
def check_feature_parameters(fn: Callable[[int, int, int], int]) -> bool:
    """``fn(hidden_size, num_layers, num_labels) -> int``: what learns when a frozen BERT is used as features:
    a scalar mix over the L + 1 layers (L + 1 weights and γ) and a linear head H -> K with bias."""
    name = "check_feature_parameters"
    from course_lib.bert import BertConfig, BertForTokenClassification, BertModel

    for H, L, K in ((16, 2, 3), (64, 4, 9), (768, 12, 2)):
        got = attempt(name, fn, H, L, K)
        want = (L + 1) + 1 + H * K + K
        if H <= 64:  # measure it on a real model when it is small
            config = BertConfig(vocab_size=30, hidden_size=H, num_hidden_layers=L, num_attention_heads=4,
                                intermediate_size=2 * H, max_position_embeddings=16)
            model = BertForTokenClassification.from_encoder(BertModel(config), K, freeze_encoder=True, mix_layers=True)
            want = model.num_parameters(trainable_only=True)
        if not isinstance(got, int) or isinstance(got, bool):
            return report(name, False, f"return an int, got {type(got).__name__}.")
        if got == want:
            continue
        if got == H * K + K:
            return report(name, False, "the mix learns too: L + 1 layer weights and one γ.")
        if got == L + H * K + K + 1 or got == (L + 1) + H * K + K:
            return report(name, False, "there are L + 1 layers to mix (the embeddings and each layer), plus γ.")
        if got == (L + 1) + 1 + H * K:
            return report(name, False, "the linear head has a bias: K more parameters.")
        return report(name, False, f"H={H}, L={L}, K={K}: expected {want}, got {got}.")
    return report(name, True, "correct: a frozen encoder leaves only the mix and the head to learn.")
