"""Checkers for the exercises of notebook 02 (perplexity, add-k smoothing, LSTM parameters, TBPTT streams)."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from course_lib.checks.core import attempt, checker, close, report


@checker
def check_perplexity(fn: Callable[[list[float]], float]) -> bool:
    """``fn(probs)``: the perplexity of a sentence from the probabilities of its actual next tokens."""
    name = "check_perplexity"
    for probs in ([0.5, 0.25, 1.0], [0.1] * 7, [1 / 747] * 4, [0.9, 0.05, 0.6, 0.3]):  # 2, 10, 747, ...
        got = attempt(name, fn, list(probs))
        want = math.exp(-sum(math.log(p) for p in probs) / len(probs))
        try:
            value = float(got)
        except (TypeError, ValueError):
            return report(name, False, f"return a number, got {type(got).__name__}.")
        if not math.isclose(value, want, rel_tol=1e-6):
            hint = ("that is the product of the probabilities, not a perplexity" if math.isclose(value, math.prod(probs))
                    else "divide by the number of tokens before exp()" if math.isclose(value, math.exp(-sum(
                        math.log(p) for p in probs))) else "perplexity = exp(-mean(log p))")
            return report(name, False, f"for probabilities {probs} expected {want:.4f}, got {value:.4f}: {hint}.")
    return report(name, True, "correct: a uniform choice among V words gives perplexity V.")


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


@checker
def check_batchify(fn: Callable[[torch.Tensor, int], torch.Tensor]) -> bool:
    """``fn(stream (N,), batch_size)``: (B, N // B), row b = the b-th contiguous stretch of the stream."""
    name = "check_batchify"
    for n, b in ((12, 3), (10, 3), (7, 7)):
        stream = torch.arange(100, 100 + n)
        got = attempt(name, fn, stream.clone(), b)
        want = stream[: (n // b) * b].view(b, n // b)
        if not isinstance(got, torch.Tensor) or got.shape != want.shape:
            return report(name, False, f"for N={n}, B={b} expected shape {tuple(want.shape)}, got "
                                       f"{tuple(getattr(got, 'shape', ())) or type(got).__name__}: drop the "
                                       f"last N % B tokens.")
        if torch.equal(got, want):
            continue
        if torch.equal(got, stream[: (n // b) * b].view(n // b, b).T):
            return report(name, False, "the rows interleave the stream: each row must be one contiguous stretch "
                                       "(reshape to (B, N // B) directly, no transpose).")
        else:
            return report(name, False, f"wrong values for N={n}, B={b}: row b holds tokens "
                                       "b·(N // B) ... (b + 1)·(N // B) - 1.")
    return report(name, True, "correct: each row is a stream the LSTM can read on, chunk after chunk.")
