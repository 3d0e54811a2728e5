"""Metrics of the downstream tasks: span decoding, exact match and F1 of answers, accuracy, macro-F1.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

import torch
from torch import Tensor


def best_spans(start_logits: Tensor, end_logits: Tensor, context_mask: Tensor | None = None,
               max_answer_length: int = 30) -> list[tuple[int, int] | None]:
    """The best answer span of each row, or None when the [CLS] span (0, 0) scores higher.

    ``start_logits``, ``end_logits``: (B, T). ``context_mask`` (B, T), True where a token may be part of
    an answer (the context's pieces); without it every position but 0 may. A span (s, e) needs
    s ≤ e < s + ``max_answer_length``, both inside the context, and scores start[s] + end[e].
    """
    if start_logits.shape != end_logits.shape or start_logits.dim() != 2:
        raise ValueError(f"start and end logits must both be (B, T), got {tuple(start_logits.shape)} and "
                         f"{tuple(end_logits.shape)}")
    if max_answer_length < 1:
        raise ValueError(f"max_answer_length must be >= 1, got {max_answer_length}")
    B, T = start_logits.shape
    if context_mask is None:
        context_mask = torch.ones(B, T, dtype=torch.bool, device=start_logits.device)
        context_mask[:, 0] = False
    context_mask = context_mask.bool()
    scores = start_logits.float()[:, :, None] + end_logits.float()[:, None, :]  # (B, T_start, T_end)
    offsets = torch.arange(T, device=scores.device)
    width = offsets[None, :] - offsets[:, None]  # e - s
    allowed = (width >= 0) & (width < max_answer_length)
    allowed = allowed[None] & context_mask[:, :, None] & context_mask[:, None, :]
    scores = scores.masked_fill(~allowed, float("-inf"))
    best = scores.flatten(1).max(dim=1)
    null = start_logits.float()[:, 0] + end_logits.float()[:, 0]
    spans: list[tuple[int, int] | None] = []
    for b in range(B):
        score, index = best.values[b].item(), best.indices[b].item()
        if score == float("-inf") or null[b].item() > score:
            spans.append(None)
        else:
            spans.append((index // T, index % T))
    return spans


def span_words(span: tuple[int, int] | None, word_index: Sequence[int], context: Sequence[str]) -> list[str]:
    """The context words a piece span (s, e) covers (``word_index`` from ``collate_qa``); [] for None."""
    if span is None:
        return []
    first, last = word_index[span[0]], word_index[span[1]]
    if first < 0 or last < 0:
        raise ValueError(f"span {span} is not inside the context (word_index {first}, {last})")
    return list(context[first : last + 1])


def _normalize(words: Sequence[str] | str) -> list[str]:
    text = words if isinstance(words, str) else " ".join(words)
    return re.sub(r"[^\w\s]", " ", text.lower()).split()


def exact_match(predicted: Sequence[str] | str, gold: Sequence[str] | str) -> float:
    """1.0 when the two answers have the same words (case and punctuation ignored), else 0.0.

    An empty answer means "no answer": two empty answers match.
    """
    return float(_normalize(predicted) == _normalize(gold))


def span_f1(predicted: Sequence[str] | str, gold: Sequence[str] | str) -> float:
    """SQuAD's word-overlap F1 of two answers; 1.0 when both are empty, 0.0 when only one is."""
    p, g = _normalize(predicted), _normalize(gold)
    if not p or not g:
        return float(p == g)
    common = sum((Counter(p) & Counter(g)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(p), common / len(g)
    return 2 * precision * recall / (precision + recall)


def accuracy(predicted: Tensor | Sequence[int], gold: Tensor | Sequence[int], ignore_index: int = -100) -> float:
    """Share of positions where ``predicted`` equals ``gold``, skipping ``gold == ignore_index``."""
    predicted, gold = torch.as_tensor(predicted).flatten(), torch.as_tensor(gold).flatten()
    if predicted.shape != gold.shape:
        raise ValueError(f"predicted has {predicted.numel()} labels, gold {gold.numel()}")
    keep = gold != ignore_index
    if not bool(keep.any()):
        raise ValueError("no scored position: every gold label is ignore_index")
    return (predicted[keep] == gold[keep]).float().mean().item()


def macro_f1(predicted: Tensor | Sequence[int], gold: Tensor | Sequence[int], ignore_index: int = -100) -> float:
    """F1 per class, averaged over the classes present in ``gold`` or ``predicted``."""
    predicted, gold = torch.as_tensor(predicted).flatten(), torch.as_tensor(gold).flatten()
    if predicted.shape != gold.shape:
        raise ValueError(f"predicted has {predicted.numel()} labels, gold {gold.numel()}")
    keep = gold != ignore_index
    predicted, gold = predicted[keep], gold[keep]
    if gold.numel() == 0:
        raise ValueError("no scored position: every gold label is ignore_index")
    scores = []
    for c in torch.unique(torch.cat([predicted, gold])).tolist():
        tp = ((predicted == c) & (gold == c)).sum().item()
        fp = ((predicted == c) & (gold != c)).sum().item()
        fn = ((predicted != c) & (gold == c)).sum().item()
        scores.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return sum(scores) / len(scores)
