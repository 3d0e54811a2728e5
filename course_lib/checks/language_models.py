"""Checkers for the exercises of notebook 02 (LSTM parameters, add-k smoothing, the best k)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import torch

from course_lib.checks.core import attempt, checker, close, number, report


@checker
def check_add_k(fn: Callable[[torch.Tensor, float], torch.Tensor]) -> bool:
    """``fn(counts (V, V), k)``: add-k smoothed bigram probabilities, row ``a`` = p(• | a)."""
    name = "check_add_k"
    g = torch.Generator().manual_seed(0)
    counts = torch.randint(0, 4, (6, 6), generator=g).float()
    counts[2] = 0  # a context never seen: add-k must give it the uniform distribution
    for k in (1.0, 0.1):
        got = attempt(name, fn, counts.clone(), k)
        want = (counts + k) / (counts.sum(1, keepdim=True) + k * counts.shape[1])
        if not isinstance(got, torch.Tensor) or got.shape != counts.shape:
            return report(name, False, f"return a ({counts.shape[0]}, {counts.shape[1]}) tensor, "
                                       f"got {type(got).__name__} {tuple(getattr(got, 'shape', ()))}.")
        if not torch.allclose(got.sum(1).double(), torch.ones(6, dtype=torch.float64), atol=1e-5):
            return report(name, False, f"rows must sum to 1 (k={k}): add k·V to each row's total.")
        if not close(got, want):
            return report(name, False, f"wrong values at k={k}: p(b | a) = (c(a, b) + k) / (c(a) + k·V).")
    return report(name, True, "correct: no bigram has probability 0, and an unseen context gives the uniform model.")


@checker
def check_lstm_parameters(fn: Callable[[int, int, int], int]) -> bool:
    """``fn(input_size, hidden_size, num_layers)``: the number of parameters of ``nn.LSTM`` (biases included)."""
    name = "check_lstm_parameters"
    for n_in, H, L in ((3, 2, 1), (128, 128, 2), (300, 64, 3), (10, 20, 1)):
        got = attempt(name, fn, n_in, H, L)
        want = sum(p.numel() for p in torch.nn.LSTM(n_in, H, L).parameters())
        if got != want:
            hint = ("layers above the first read the H-sized output of the layer below, not the input"
                    if L > 1 and got == L * (4 * H * (n_in + H) + 8 * H)
                    else "one layer has 4 gates, each with W_ih (H x input), W_hh (H x H) and two biases (H)")
            return report(name, False, f"nn.LSTM({n_in}, {H}, num_layers={L}) has {want} parameters, you said {got}: "
                                       f"{hint}.")
    return report(name, True, "correct: 4·H·(I + H) + 8·H for the first layer, 4·H·2H + 8·H for each one above.")


def add_k_perplexity(pairs: Mapping[tuple[str, str], int], test_pairs: Sequence[tuple[str, str]],
                     words: Sequence[str], k: float) -> float:
    """Test perplexity of the add-k bigram model counted from ``pairs`` ((a, b) -> count), on ``test_pairs``."""
    index = {w: i for i, w in enumerate(words)}
    counts = torch.zeros(len(words), len(words), dtype=torch.float64)
    for (a, b), c in pairs.items():
        counts[index[a], index[b]] = c
    a = torch.tensor([index[x] for x, _ in test_pairs])
    b = torch.tensor([index[y] for _, y in test_pairs])
    probs = (counts[a, b] + k) / (counts.sum(1)[a] + k * len(words))
    return math.exp(-probs.log().mean().item())


ADD_K_VALUES = (1.0, 0.1, 0.01, 0.001)


@checker
def check_best_add_k(answer: float, pairs: Mapping, test_pairs: Sequence, vocab) -> bool:
    """``answer``: the lowest test perplexity of an add-k bigram over k in 1, 0.1, 0.01, 0.001 (within 0.001),
    recomputed from the notebook's training bigram counts ``pairs``, ``test_pairs`` and ``vocab``."""
    name = "check_best_add_k"
    value = number(name, answer)
    if not (isinstance(pairs, Mapping) and isinstance(test_pairs, Sequence) and hasattr(vocab, "itos")):
        return report(name, False, "pass the notebook's `pairs`, `test_pairs` and `vocab` (section 4) after your "
                                   "answer.")
    table = {k: add_k_perplexity(pairs, test_pairs, vocab.itos, k) for k in ADD_K_VALUES}
    best = min(table, key=table.get)
    if abs(value - table[best]) <= 1e-3:
        return report(name, True, f"correct: k = {best:g} gives {table[best]:.3f}; k = 1 (add-one) gives "
                                  f"{table[1.0]:.3f}.")
    if value in ADD_K_VALUES:
        return report(name, False, f"you gave k = {value:g}; the answer is the test perplexity that the best k gives.")
    other = next((k for k, ppl in table.items() if abs(value - ppl) <= 1e-3), None)
    if other is not None:
        return report(name, False, f"{value:.3f} is the perplexity at k = {other:g}, but another k does better.")
    return report(name, False, f"none of the four k gives {value:.3f}: smooth the training bigram counts with "
                               "add_k, then exp(-mean log p(b | a)) over every test bigram (test_pairs).")
