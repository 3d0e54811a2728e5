"""Checkers for the exercises of notebook 08 (the encoder layer by hand, pre-LN, greedy decoding, CNN paths)."""

from __future__ import annotations

from collections.abc import Callable

import torch

from course_lib.checks.core import attempt, checker, close, report
from course_lib.transformer import TransformerEncoderLayer, path_lengths


def _layer(norm_first: bool) -> tuple[TransformerEncoderLayer, torch.Tensor]:
    torch.manual_seed(0)
    layer = TransformerEncoderLayer(16, 4, 32, dropout=0.0, norm_first=norm_first).eval()
    with torch.no_grad():  # LayerNorm starts as the identity map; make its scale and shift matter
        for norm in (layer.norm1, layer.norm2):
            norm.weight.uniform_(0.5, 1.5)
            norm.bias.uniform_(-0.5, 0.5)
    return layer, torch.randn(2, 5, 16)


def _check_layer(name: str, fn: Callable, norm_first: bool) -> bool:
    layer, x = _layer(norm_first)
    got = attempt(name, fn, layer, x.clone())
    with torch.no_grad():
        want = layer(x)[0]
        other = TransformerEncoderLayer(16, 4, 32, dropout=0.0, norm_first=not norm_first).eval()
        other.load_state_dict(layer.state_dict())
        wrong_order = other(x)[0]
    if not isinstance(got, torch.Tensor) or got.shape != want.shape:
        return report(name, False, f"expected a tensor of shape {tuple(want.shape)}, "
                                   f"got {type(got).__name__} {tuple(getattr(got, 'shape', ()))}.")
    if close(got, want, atol=1e-4):
        return report(name, True, "correct: your layer gives the library's output.")
    if close(got, wrong_order, atol=1e-4):
        kind = "pre-LN (norm before each sub-layer)" if norm_first else "post-LN (norm after each residual sum)"
        return report(name, False, f"you computed the other variant; this exercise wants {kind}.")
    return report(name, False, "wrong values: attention (layer.self_attn(h, h, h)[0]), residual sum, "
                               "LayerNorm; then FFN (layer.ffn), residual sum, LayerNorm — in that order.")


@checker
def check_encoder_layer(fn: Callable[[TransformerEncoderLayer, torch.Tensor], torch.Tensor]) -> bool:
    """``fn(layer, x)``: the post-LN encoder layer computed from ``layer``'s parts equals ``layer(x)[0]``."""
    return _check_layer("check_encoder_layer", fn, norm_first=False)


@checker
def check_pre_ln_layer(fn: Callable[[TransformerEncoderLayer, torch.Tensor], torch.Tensor]) -> bool:
    """``fn(layer, x)`` for a pre-LN layer (``norm_first=True``) equals ``layer(x)[0]``."""
    return _check_layer("check_pre_ln_layer", fn, norm_first=True)


def _scripted(answer: list[int], vocab_size: int = 10) -> Callable[[list[int]], torch.Tensor]:
    """A fake model: after a prefix of n tokens (<bos> included) it prefers answer[n - 1]."""
    def next_logits(prefix: list[int]) -> torch.Tensor:
        logits = torch.zeros(vocab_size)
        logits[answer[min(len(prefix) - 1, len(answer) - 1)]] = 5.0
        return logits
    return next_logits


@checker
def check_greedy(fn: Callable[[Callable[[list[int]], torch.Tensor], int, int, int], list[int]]) -> bool:
    """``fn(next_logits, bos, eos, max_len)`` -> generated ids (no <bos>), ending at <eos> or at max_len."""
    name = "check_greedy"
    bos, eos = 1, 2
    cases = [([5, 7, 3, eos], 10, [5, 7, 3, eos], "stops right after <eos>"),
             ([4, 4, 4, 4], 6, [4] * 6, "stops at max_len when no <eos> comes"),
             ([eos], 5, [eos], "stops at once when <eos> comes first"),
             ([8, 9, eos], 2, [8, 9], "never returns more than max_len tokens")]
    for answer, max_len, want, what in cases:
        got = attempt(name, fn, _scripted(answer), bos, eos, max_len)
        got = got.tolist() if isinstance(got, torch.Tensor) else list(got) if got is not None else None
        if got != want:
            hint = " (do not include <bos>)" if got and got[0] == bos else ""
            return report(name, False, f"{what}: expected {want}, got {got}{hint}. Feed the prefix "
                                       "[bos, ...generated], append the argmax, stop after <eos> or max_len.")
    return report(name, True, "correct: the most probable token each step, until <eos> or max_len.")


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
