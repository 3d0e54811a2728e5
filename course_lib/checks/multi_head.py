"""Checkers for the exercises of notebook 06 (split and merge heads, parameter count, self-attention)."""

from __future__ import annotations

from collections.abc import Callable

import torch

from course_lib.attention import MultiHeadAttention, multi_head_parameter_count
from course_lib.checks.core import attempt, checker, close, report


def _shape_message(got: object, want: tuple[int, ...], what: str) -> str | None:
    if not isinstance(got, torch.Tensor):
        return f"{what}: expected a tensor, got {type(got).__name__}."
    if tuple(got.shape) != want:
        return f"{what}: expected shape {want}, got {tuple(got.shape)}."
    return None


@checker
def check_split_heads(fn: Callable[[torch.Tensor, int], torch.Tensor]) -> bool:
    """``fn(x (B, T, H), A) -> (B, A, T, D)`` with D = H / A: head a holds features a·D … (a+1)·D − 1."""
    name = "check_split_heads"
    for B, T, H, A in ((2, 3, 8, 2), (1, 5, 12, 3), (3, 4, 16, 4)):
        x = torch.arange(B * T * H, dtype=torch.float32).view(B, T, H)
        got = attempt(name, fn, x.clone(), A)
        D = H // A
        want = x.view(B, T, A, D).transpose(1, 2)
        problem = _shape_message(got, (B, A, T, D), f"for x {(B, T, H)} and A={A}")
        if problem:
            return report(name, False, problem + " Reshape to (B, T, A, D), then swap T and A.")
        if not torch.equal(got, want):
            if torch.equal(got, x.view(B, A, T, D)):
                return report(name, False, "a plain view(B, A, T, D) mixes tokens into heads: view as "
                                           "(B, T, A, D) first, then transpose(1, 2).")
            return report(name, False, "right shape, wrong contents: head a of token t must hold "
                                       "x[b, t, a*D:(a+1)*D].")
    return report(name, True, "correct: each head sees its own D = H / A features of every token.")


@checker
def check_merge_heads(fn: Callable[[torch.Tensor], torch.Tensor]) -> bool:
    """``fn(y (B, A, T, D)) -> (B, T, A·D)``: the inverse of splitting, heads concatenated per token."""
    name = "check_merge_heads"
    for B, A, T, D in ((2, 2, 3, 4), (1, 3, 5, 4), (3, 4, 2, 2)):
        y = torch.arange(B * A * T * D, dtype=torch.float32).view(B, A, T, D)
        got = attempt(name, fn, y.clone())
        want = y.transpose(1, 2).reshape(B, T, A * D)
        problem = _shape_message(got, (B, T, A * D), f"for y {(B, A, T, D)}")
        if problem:
            return report(name, False, problem + " Swap A and T back, then reshape to (B, T, A*D).")
        if not torch.equal(got, want):
            return report(name, False, "right shape, wrong contents: transpose(1, 2) before reshaping, so that "
                                       "token t gets [head 0 | head 1 | ...].")
    return report(name, True, "correct: the heads' outputs sit side by side again, ready for W_O.")


@checker
def check_parameter_count(fn: Callable[[int, bool], int]) -> bool:
    """``fn(H, bias) -> int``: the parameters of multi-head attention of width H (any number of heads)."""
    name = "check_parameter_count"
    for H in (8, 64, 256, 768):
        for bias in (True, False):
            got = attempt(name, fn, H, bias)
            want = multi_head_parameter_count(H, bias)
            if got == want:
                continue
            if got == 3 * H * H + (3 * H if bias else 0):
                return report(name, False, "you counted W_Q, W_K, W_V: the output projection W_O is H x H too.")
            if bias and got == 4 * H * H:
                return report(name, False, f"for H={H} with bias: the four projections have H biases each (+4H).")
            return report(name, False, f"for H={H}, bias={bias} expected {want:,}, got {got!r}.")
    return report(name, True, "correct: 4H² (+ 4H), whatever the number of heads.")


@checker
def check_self_attention(fn: Callable[[torch.Tensor, MultiHeadAttention], torch.Tensor]) -> bool:
    """``fn(x (B, T, H), mha) -> (B, T, H)``: multi-head self-attention written out with ``mha``'s weights."""
    name = "check_self_attention"
    torch.manual_seed(0)
    for B, T, H, A in ((2, 5, 8, 2), (1, 3, 12, 4)):
        mha = MultiHeadAttention(H, A).eval()
        x = torch.randn(B, T, H)
        with torch.no_grad():
            want, _ = mha(x, x, x)
            got = attempt(name, fn, x.clone(), mha)
        problem = _shape_message(got, (B, T, H), f"for x {(B, T, H)}")
        if problem:
            return report(name, False, problem)
        if not close(got.detach(), want, atol=1e-5):
            single = MultiHeadAttention(H, 1).eval()
            single.load_state_dict(mha.state_dict())
            with torch.no_grad():
                one_head, _ = single(x, x, x)
            if close(got.detach(), one_head, atol=1e-5):
                return report(name, False, f"that is one head over all H features: split into A={A} heads of "
                                           f"D={H // A}, scale by √D, and merge before W_O.")
            return report(name, False, "wrong values: Q, K, V = x W_Qᵀ + b_Q …; per head softmax(Q Kᵀ / √D) V; "
                                       "merge the heads; then mha.out.")
    return report(name, True, "correct: your multi-head self-attention matches the module.")
