"""Checkers for the exercises of notebooks 03 (the biLM) and 04 (using ELMo)."""

from __future__ import annotations

from collections.abc import Callable

import torch

from course_lib.checks.core import attempt, close, report
from course_lib.elmo import BiLM


def check_scalar_mix(fn: Callable) -> bool:
    """``fn(layers, w, gamma) -> gamma * sum_j softmax(w)_j * layers[j]``."""
    name = "scalar mix"
    g = torch.Generator().manual_seed(0)
    layers = [torch.randn(2, 3, 4, generator=g) for _ in range(3)]
    w, gamma = torch.tensor([0.3, -1.2, 2.0]), torch.tensor(1.5)
    out, err = attempt(name, fn, layers, w, gamma)
    if err:
        print(err)
        return False
    s = torch.softmax(w, 0)
    expected = gamma * sum(s[j] * h for j, h in enumerate(layers))
    if close(out, expected):
        return report(name, True, "γ · Σ_j softmax(w)_j h_j, as in the paper")
    if close(out, gamma * sum(w[j] * h for j, h in enumerate(layers))):
        return report(name, False, "the weights must go through a softmax first, so that they sum to 1")
    return report(name, False, f"expected shape {tuple(expected.shape)} and γ · Σ_j softmax(w)_j h_j")


def check_backward_shift(fn: Callable) -> bool:
    """``fn(ids (B, T+2) wrapped as <bos> w .. <eos> [PAD]...) -> (inputs, targets)`` of the backward LM.

    The backward LM reads the sentence reversed: inputs ``<eos> w_n .. w_1``, targets ``w_n .. w_1 <bos>``.
    """
    name = "backward LM shift"
    ids = torch.tensor([[5, 7, 8, 9, 6], [5, 10, 6, 0, 0]])
    out, err = attempt(name, fn, ids)
    if err:
        print(err)
        return False
    inputs = torch.tensor([[6, 9, 8, 7], [6, 10, 0, 0]])
    targets = torch.tensor([[9, 8, 7, 5], [10, 5, 0, 0]])
    if not (isinstance(out, tuple) and len(out) == 2):
        return report(name, False, "return a pair (inputs, targets)")
    if torch.equal(out[0], inputs) and torch.equal(out[1], targets):
        return report(name, True, "inputs <eos> w_n .. w_1, targets w_n .. w_1 <bos>, padding kept at the end")
    return report(name, False, f"for {ids.tolist()} expected inputs {inputs.tolist()} and targets {targets.tolist()}")


def check_reverse(fn: Callable) -> bool:
    """``fn(x (B, T, C), lengths (B,))`` reverses the first lengths[b] positions of each row, padding stays."""
    name = "reverse with padding"
    x = torch.arange(2 * 4 * 2, dtype=torch.float).view(2, 4, 2)
    lengths = torch.tensor([4, 2])
    out, err = attempt(name, fn, x, lengths)
    if err:
        print(err)
        return False
    if close(out, BiLM.reverse(x, lengths)):
        return report(name, True, "each sentence reversed, padding left where it was")
    if close(out, x.flip(1)):
        return report(name, False, "flipping the whole row moves the padding to the front: reverse only the real part")
    return report(name, False, "reverse x[b, :lengths[b]] and keep x[b, lengths[b]:] as it is")
