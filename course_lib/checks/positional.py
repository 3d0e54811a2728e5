"""Checkers for the exercises of notebook 07 (sinusoidal encodings, offsets as linear maps, order blindness)."""

from __future__ import annotations

from collections.abc import Callable

import torch

from course_lib.checks.core import attempt, checker, close, report
from course_lib.transformer import TransformerEncoder, sinusoidal_positions


@checker
def check_sinusoidal(fn: Callable[[int, int], torch.Tensor]) -> bool:
    """``fn(T, d)`` -> (T, d) with PE[p, 2i] = sin(p / 10000^(2i/d)) and PE[p, 2i+1] = cos(...)."""
    name = "check_sinusoidal"
    for T, d in ((5, 4), (50, 16), (1, 2)):
        got = attempt(name, fn, T, d)
        want = sinusoidal_positions(T, d)
        if not isinstance(got, torch.Tensor) or tuple(got.shape) != (T, d):
            return report(name, False, f"for T={T}, d={d} expected a tensor of shape ({T}, {d}), "
                                       f"got {type(got).__name__} {tuple(getattr(got, 'shape', ()))}.")
        if close(got, want, atol=1e-4):
            continue
        swapped = want.view(T, d // 2, 2).flip(-1).reshape(T, d)
        if close(got, swapped, atol=1e-4):
            return report(name, False, "sin and cos are swapped: even columns 2i take sin, odd columns 2i+1 cos.")
        if T > 1 and close(got[0], want[0], atol=1e-4):
            return report(name, False, f"position 0 is right but later ones are not (T={T}, d={d}): check the "
                                       "frequencies 1 / 10000^(2i/d), with i the pair index, not the column.")
        return report(name, False, f"wrong values for T={T}, d={d}: PE[p, 2i] = sin(p / 10000^(2i/d)), "
                                   "PE[p, 2i+1] = cos(p / 10000^(2i/d)).")
    return report(name, True, "correct: every position gets its own pattern of sines and cosines.")


@checker
def check_offset_matrix(fn: Callable[[int, int], torch.Tensor]) -> bool:
    """``fn(k, d)`` -> (d, d) matrix M_k with PE[p + k] = M_k @ PE[p] at every position p."""
    name = "check_offset_matrix"
    pe = sinusoidal_positions(80, 16)
    for k in (1, 3, -2, 0):
        got = attempt(name, fn, k, 16)
        if not isinstance(got, torch.Tensor) or tuple(got.shape) != (16, 16):
            return report(name, False, f"expected a (16, 16) tensor for d=16, got {tuple(getattr(got, 'shape', ()))}.")
        got = got.double()
        p = torch.arange(10, 70)
        moved = pe[p].double() @ got.T  # row p: M_k @ PE[p]
        if close(moved, pe[p + k].double(), atol=1e-4):
            continue
        if close(pe[p].double() @ got, pe[p + k].double(), atol=1e-4):
            return report(name, False, f"your matrix is the transpose of M_{k}: M_k @ PE[p] must give PE[p + k] "
                                       "(sin row first: [cos kω, sin kω], then the cos row: [-sin kω, cos kω]).")
        return report(name, False, f"M_{k} @ PE[p] is not PE[p + {k}]: build 2 x 2 rotation blocks by the angle "
                                   "k·ω_i on the diagonal, one per frequency.")
    return report(name, True, "correct: a shift by k is one rotation per frequency, the same at every position.")


@checker
def check_equivariance_gap(fn: Callable[[Callable, torch.Tensor, torch.Tensor], float]) -> bool:
    """``fn(f, x, perm)`` -> max |f(x[:, perm]) - f(x)[:, perm]|: 0 for order-blind ``f``, > 0 otherwise."""
    name = "check_equivariance_gap"
    torch.manual_seed(0)
    encoder = TransformerEncoder(1, 16, 4, 32, dropout=0.0).eval()
    x = torch.randn(2, 6, 16)
    perm = torch.tensor([3, 0, 5, 1, 4, 2])
    blind = lambda t: encoder(t)[0]  # noqa: E731
    ordered = lambda t: encoder(t + sinusoidal_positions(t.shape[1], 16))[0]  # noqa: E731
    gaps = []
    for f in (blind, ordered):
        got = attempt(name, fn, f, x.clone(), perm.clone())
        try:
            gaps.append(float(got))
        except (TypeError, ValueError):
            return report(name, False, f"return one number (a float), got {type(got).__name__}.")
    with torch.no_grad():
        want = [float((f(x[:, perm]) - f(x)[:, perm]).abs().max()) for f in (blind, ordered)]
    if gaps[0] > 1e-4:
        return report(name, False, f"an encoder without positions gave a gap of {gaps[0]:.3g}, but it is "
                                   "order-blind: permute the tokens (dimension 1) of the input, x[:, perm], and "
                                   "the output the same way, f(x)[:, perm].")
    if abs(gaps[1] - want[1]) > 1e-4 * max(1.0, want[1]):
        return report(name, False, f"with positions the gap should be {want[1]:.4f}, got {gaps[1]:.4f}: take the "
                                   "largest absolute difference over all entries.")
    return report(name, True, f"correct: gap below 1e-4 without positions, {gaps[1]:.2f} with them.")
