"""Checkers for the exercises of notebooks 03 (the biLM) and 04 (using ELMo)."""

from __future__ import annotations

from collections.abc import Callable

import torch

from course_lib.checks.core import attempt, checker, close, report
from course_lib.elmo import BiLM


@checker
def check_scalar_mix(fn: Callable) -> bool:
    """``fn(layers, w, gamma) -> gamma * sum_j softmax(w)_j * layers[j]``."""
    name = "scalar mix"
    g = torch.Generator().manual_seed(0)
    layers = [torch.randn(2, 3, 4, generator=g) for _ in range(3)]
    w, gamma = torch.tensor([0.3, -1.2, 2.0]), torch.tensor(1.5)
    out = attempt(name, fn, layers, w, gamma)
    s = torch.softmax(w, 0)
    expected = gamma * sum(s[j] * h for j, h in enumerate(layers))
    if close(out, expected):
        return report(name, True, "γ · Σ_j softmax(w)_j h_j, as in the paper")
    if close(out, gamma * sum(w[j] * h for j, h in enumerate(layers))):
        return report(name, False, "the weights must go through a softmax first, so that they sum to 1")
    return report(name, False, f"expected shape {tuple(expected.shape)} and γ · Σ_j softmax(w)_j h_j")


@checker
def check_backward_shift(fn: Callable) -> bool:
    """``fn(ids (B, T+2) wrapped as <bos> w .. <eos> [PAD]...) -> (inputs, targets)`` of the backward LM.

    The backward LM reads the sentence reversed: inputs ``<eos> w_n .. w_1``, targets ``w_n .. w_1 <bos>``.
    """
    name = "backward LM shift"
    ids = torch.tensor([[5, 7, 8, 9, 6], [5, 10, 6, 0, 0]])
    out = attempt(name, fn, ids)
    inputs = torch.tensor([[6, 9, 8, 7], [6, 10, 0, 0]])
    targets = torch.tensor([[9, 8, 7, 5], [10, 5, 0, 0]])
    if not (isinstance(out, tuple) and len(out) == 2):
        return report(name, False, "return a pair (inputs, targets)")
    if torch.equal(out[0], inputs) and torch.equal(out[1], targets):
        return report(name, True, "inputs <eos> w_n .. w_1, targets w_n .. w_1 <bos>, padding kept at the end")
    return report(name, False, f"for {ids.tolist()} expected inputs {inputs.tolist()} and targets {targets.tolist()}")


@checker
def check_reverse(fn: Callable) -> bool:
    """``fn(x (B, T, C), lengths (B,))`` reverses the first lengths[b] positions of each row, padding stays."""
    name = "reverse with padding"
    x = torch.arange(2 * 4 * 2, dtype=torch.float).view(2, 4, 2)
    lengths = torch.tensor([4, 2])
    out = attempt(name, fn, x, lengths)
    if close(out, BiLM.reverse(x, lengths)):
        return report(name, True, "each sentence reversed, padding left where it was")
    if close(out, x.flip(1)):
        return report(name, False, "flipping the whole row moves the padding to the front: reverse only the real part")
    return report(name, False, "reverse x[b, :lengths[b]] and keep x[b, lengths[b]:] as it is")


@checker
def check_joint_loss(fn: Callable) -> bool:
    """``fn(fwd_logits, fwd_targets, bwd_logits, bwd_targets) -> forward NLL + backward NLL``.

    Logits (B, T, V), targets (B, T); target 0 ([PAD]) is not predicted. Each NLL is the mean over the
    predicted tokens of its direction, in nats.
    """
    name = "joint biLM loss"
    g = torch.Generator().manual_seed(1)
    fl, bl = torch.randn(2, 4, 6, generator=g), torch.randn(2, 4, 6, generator=g)
    ft = torch.tensor([[2, 3, 4, 1], [5, 1, 0, 0]])
    bt = torch.tensor([[4, 3, 2, 5], [3, 5, 0, 0]])
    out = attempt(name, fn, fl, ft, bl, bt)
    out = torch.as_tensor(out)
    ce = torch.nn.functional.cross_entropy
    f = ce(fl.flatten(0, 1), ft.flatten(), ignore_index=0)
    b = ce(bl.flatten(0, 1), bt.flatten(), ignore_index=0)
    if close(out, f + b):
        return report(name, True, "mean forward NLL + mean backward NLL, padding ignored: log p of the sentence "
                                  "under each direction, added")
    if close(out, (f + b) / 2):
        return report(name, False, "the paper maximizes the sum of the two log-likelihoods, not their mean")
    unmasked = ce(fl.flatten(0, 1), ft.flatten()) + ce(bl.flatten(0, 1), bt.flatten())
    if close(out, unmasked):
        return report(name, False, "padding positions (target 0) must not count: use ignore_index")
    return report(name, False, f"expected {float(f + b):.4f} (forward {float(f):.4f} + backward {float(b):.4f})")


@checker
def check_direction_half(fn: Callable) -> bool:
    """``fn(layers, direction) -> (N, L·D)``: the forward (first) or backward (second) half of layers 1..L."""
    name = "one direction's features"
    g = torch.Generator().manual_seed(2)
    layers = [torch.randn(3, 8, generator=g) for _ in range(3)]  # L + 1 = 3 layers, D = 4
    ok = True
    for direction, part in (("forward", slice(0, 4)), ("backward", slice(4, 8))):
        out = attempt(name, fn, layers, direction)
        expected = torch.cat([h[:, part] for h in layers[1:]], dim=-1)
        if not close(out, expected):
            if close(out, torch.cat([h[:, part] for h in layers], dim=-1)):
                return report(name, False, "leave out layer 0: the token layer has no direction ([x; x])")
            ok = False
            wrong = direction
    if ok:
        return report(name, True, "forward half = h[:, :D], backward half = h[:, D:], of layers 1 .. L")
    return report(name, False, f"for {wrong!r} expected the {'first' if wrong == 'forward' else 'second'} half "
                               "of every LSTM layer, concatenated: shape (N, L·D)")


@checker
def check_within_across(fn: Callable) -> bool:
    """``fn(x (N, C), labels (N,)) -> (within, across)``: mean cosine of same-label pairs (i != j) and of
    different-label pairs."""
    name = "within- and across-sense cosine"
    x = torch.tensor([[1.0, 0.0], [2.0, 0.2], [0.0, 1.0], [0.1, 3.0]])
    labels = torch.tensor([0, 0, 1, 1])
    out = attempt(name, fn, x, labels)
    u = torch.nn.functional.normalize(x, dim=-1)
    sim = u @ u.T
    same = labels[:, None] == labels[None, :]
    off = ~torch.eye(4, dtype=torch.bool)
    within, across = sim[same & off].mean(), sim[~same].mean()
    if not (isinstance(out, tuple) and len(out) == 2):
        return report(name, False, "return a pair (within, across)")
    got = torch.tensor([float(out[0]), float(out[1])])
    if close(got, torch.stack([within, across])):
        return report(name, True, f"within {float(within):.3f} > across {float(across):.3f} on the example")
    if close(got[:1], sim[same].mean()[None]):
        return report(name, False, "leave out the pairs of a token with itself (cosine 1) from 'within'")
    if close(got, torch.stack([(x @ x.T)[same & off].mean(), (x @ x.T)[~same].mean()])):
        return report(name, False, "cosine similarity divides the dot product by both vectors' lengths")
    return report(name, False, f"expected ({float(within):.3f}, {float(across):.3f}) on the example")
