"""Checkers for the exercises of notebook 08 (a decoder layer's parameters, how deep a CNN must be, how deep a
stack without residuals blurs its tokens)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from course_lib.checks.core import attempt, checker, number, report
from course_lib.transformer import TransformerDecoderLayer, path_lengths


@checker
def check_decoder_layer_parameters(fn: Callable[[int, int], int]) -> bool:
    """``fn(H, d_ff) -> int``: the parameters of one ``TransformerDecoderLayer`` of width H (any number of heads)."""
    name = "check_decoder_layer_parameters"
    for H, d_ff, A in ((32, 128, 4), (8, 16, 2), (768, 3072, 12), (64, 64, 1)):
        got = attempt(name, fn, H, d_ff)
        with torch.device("meta"):
            want = sum(p.numel() for p in TransformerDecoderLayer(H, A, d_ff).parameters())
        if isinstance(got, bool) or not isinstance(got, int):
            return report(name, False, f"return a whole number (an int), got {type(got).__name__}.")
        if got == want:
            continue
        attention, ffn, norm = 4 * H * H + 4 * H, 2 * H * d_ff + d_ff + H, 2 * H
        hints = {attention + ffn + 2 * norm: "that is an encoder layer: a decoder layer has a second attention, the "
                                             "cross-attention, with its own Add & Norm",
                 2 * attention + ffn + 2 * norm: "count the third LayerNorm (2H): one after each of the three "
                                                 "sub-layers",
                 2 * (4 * H * H) + 2 * H * d_ff + 3 * norm: "add the biases: 4H per attention, d_ff + H for the FFN"}
        return report(name, False, f"H = {H}, d_ff = {d_ff}: expected {want:,}, got {got:,}"
                                   + (f": {hints[got]}." if got in hints else "."))
    return report(name, True, "correct: two attentions, one FFN, three LayerNorms; the heads still cost nothing.")


@checker
def check_cnn_layers(fn: Callable[[int, int], int]) -> bool:
    """``fn(n, k)``: layers of centred width-k convolutions before the first of n tokens reaches the last."""
    name = "check_cnn_layers"
    for n, k in ((9, 3), (10, 3), (2, 3), (128, 5), (100, 7)):
        got = attempt(name, fn, n, k)
        want = path_lengths(n, k)["1-D CNN"]["layers"]
        if got != want:
            hint = " (that is (n-1)/(k-1): it counts the whole window, but a centred window reaches only " \
                   "k // 2 positions to each side)" if got == -(-(n - 1) // (k - 1)) else ""
            return report(name, False, f"n={n}, k={k}: expected {want} layers, got {got}{hint}.")
    return report(name, True, "correct: a CNN needs about n / (k // 2) layers; self-attention needs one.")


def mean_token_cosine(h: torch.Tensor) -> float:
    """Mean cosine between the rows of ``h`` (N, C), a row with itself left out."""
    unit = F.normalize(h, dim=-1)
    return (unit @ unit.T)[~torch.eye(len(h), dtype=torch.bool)].mean().item()


def cosine_by_depth(blocks: Sequence[nn.Module], norms: Sequence[nn.Module], tokens: torch.Tensor,
                    residual: bool) -> list[float]:
    """The mean cosine between the tokens after 1, 2, ... of notebook 08's blocks (each FFN then LayerNorm)."""
    h, out = tokens, []
    with torch.no_grad():
        for block, norm in zip(blocks, norms, strict=True):
            h = norm(h + block(h)) if residual else norm(block(h))
            out.append(mean_token_cosine(h))
    return out


BLUR = 0.8  # the mean cosine between tokens that exercise 3 of notebook 08 asks about


@checker
def check_blur_depth(answer: int, blocks: Sequence[nn.Module], norms: Sequence[nn.Module],
                     tokens: torch.Tensor) -> bool:
    """``answer``: the smallest number of blocks without the residual after which the mean cosine between the
    ``tokens`` exceeds 0.8, recomputed with the notebook's ``blocks`` and ``norms``."""
    name = "check_blur_depth"
    value = number(name, answer)
    if not (isinstance(blocks, (Sequence, nn.ModuleList)) and isinstance(norms, (Sequence, nn.ModuleList))
            and isinstance(tokens, torch.Tensor) and len(blocks) == len(norms) > 0):
        return report(name, False, "pass the notebook's `blocks`, `norms` and `tokens` (section 1) after your answer.")
    without = cosine_by_depth(blocks, norms, tokens, residual=False)
    deep = next((k for k, c in enumerate(without, start=1) if c > BLUR), None)
    if deep is None:
        return report(name, False, f"these blocks never take the mean cosine above {BLUR}: pass the notebook's own.")
    if value == deep:
        with_residual = cosine_by_depth(blocks, norms, tokens, residual=True)
        return report(name, True, f"correct: after {deep} blocks without the residual the tokens are {without[deep - 1]:.2f}"
                                  f" alike; with it, {with_residual[deep - 1]:.2f} at that depth and "
                                  f"{with_residual[-1]:.2f} after all {len(blocks)}.")
    if value != int(value) or not 1 <= value <= len(blocks):
        return report(name, False, f"a depth is a whole number of blocks from 1 to {len(blocks)}, got {value:g}.")
    k = int(value)
    if k > deep:
        return report(name, False, f"after {k} blocks the mean cosine is {without[k - 1]:.2f}, but it passes {BLUR} "
                                   "earlier: try the smaller depths, from 1 up.")
    return report(name, False, f"after {k} blocks without the residual the mean cosine between tokens is "
                               f"{without[k - 1]:.2f}, not above {BLUR}: go deeper (and leave the residual out).")
