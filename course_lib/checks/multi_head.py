"""Checkers for the exercises of notebook 06 (one head from its slice of the weights, multi-query attention's
parameters, silencing one head of the trained tagger)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import torch
from torch import nn

from course_lib.attention import MultiHeadAttention, SelfAttentionTagger
from course_lib.checks.core import attempt, checker, close, number, report


def _head_outputs(x: torch.Tensor, mha: MultiHeadAttention) -> torch.Tensor:
    """Every head's output before W_O, (B, A, T, D): the reference for ``check_head_output``."""
    B, T, H = x.shape
    A, D = mha.num_heads, H // mha.num_heads
    q, k, v = (p(x).view(B, T, A, D).transpose(1, 2) for p in (mha.query, mha.key, mha.value))  # (B, A, T, D)
    return (q @ k.transpose(-2, -1) / math.sqrt(D)).softmax(dim=-1) @ v


@checker
def check_head_output(fn: Callable[[torch.Tensor, MultiHeadAttention, int], torch.Tensor]) -> bool:
    """``fn(x (B, T, H), mha, a) -> (B, T, D)``: what head ``a`` of ``mha`` passes on, before W_O."""
    name = "check_head_output"
    g = torch.Generator().manual_seed(0)
    for B, T, H, A in ((2, 5, 8, 2), (1, 4, 12, 3), (3, 6, 16, 4)):
        with torch.random.fork_rng():  # the learner's random state is left as it was
            torch.manual_seed(H)
            mha = MultiHeadAttention(H, A).eval()
        x = torch.randn(B, T, H, generator=g)
        with torch.no_grad():
            want = _head_outputs(x, mha)
        D = H // A
        for a in range(A):
            with torch.no_grad():
                got = attempt(name, fn, x.clone(), mha, a)
            if not isinstance(got, torch.Tensor) or tuple(got.shape) != (B, T, D):
                return report(name, False, f"for x of shape {(B, T, H)} and A = {A} a head passes on (B, T, D) = "
                                           f"{(B, T, D)}, got {tuple(getattr(got, 'shape', ())) or type(got).__name__}.")
            if close(got, want[:, a], atol=1e-5):
                continue
            rows = slice(a * D, (a + 1) * D)
            with torch.no_grad():
                q, k, v = (x @ p.weight[rows].T + p.bias[rows] for p in (mha.query, mha.key, mha.value))
                by_root_h = (q @ k.transpose(1, 2) / math.sqrt(H)).softmax(-1) @ v
            if close(got, by_root_h, atol=1e-5):
                return report(name, False, f"divide the scores by √D, the size of one head's queries (√{D}), not by "
                                           f"√H.")
            return report(name, False, f"head {a} of {A} (H = {H}): its queries, keys and values are rows "
                                       f"{a}·D … ({a}+1)·D − 1 of each projection's output (weight rows and bias "
                                       f"entries), then softmax(q kᵀ / √D) v.")
    return report(name, True, "correct: a head is a small attention of its own, on its D features.")


@checker
def check_mqa_parameters(fn: Callable[[int, int], int]) -> bool:
    """``fn(H, A) -> int``: parameters of multi-query attention of width H with A heads (biases included): W_Q and
    W_O are H x H, one shared key head and one shared value head are H x D, D = H / A."""
    name = "check_mqa_parameters"
    for H, A in ((8, 2), (64, 4), (768, 12), (16, 1)):
        got = attempt(name, fn, H, A)
        D = H // A
        want = (H * H + H) + 2 * (H * D + D) + (H * H + H)  # W_Q, the shared W_K and W_V, W_O; with biases
        if isinstance(got, bool) or not isinstance(got, int):
            return report(name, False, f"return a whole number (an int), got {type(got).__name__}.")
        if got == want:
            continue
        if got == 4 * H * H + 4 * H:
            return report(name, False, f"H = {H}, A = {A}: that is ordinary multi-head attention; here the A heads "
                                       "share one key head and one value head of size D = H / A.")
        if got == 2 * H * H + 2 * H * D:
            return report(name, False, f"H = {H}, A = {A}: the weights are right; add the biases (H + D + D + H).")
        return report(name, False, f"H = {H}, A = {A}: expected {want:,}, got {got:,}. W_Q: H·H + H, shared W_K and "
                                   "W_V: H·D + D each, W_O: H·H + H.")
    base, mqa = 4 * 768 * 768 + 4 * 768, 2 * 768 * 768 + 2 * 768 * 64 + 2 * 768 + 2 * 64
    return report(name, True, f"correct: at BERT-base's size {mqa:,} instead of {base:,} parameters per layer.")


def ablated_sense_accuracy(model: SelfAttentionTagger, batch: Mapping[str, torch.Tensor], layer: int,
                           head: int | None) -> float:
    """Sense accuracy of notebook 06's tagger on ``batch`` (its polysemous words, tag > 0) with head ``head`` of
    layer ``layer`` silenced: its D features are set to 0 before W_O. ``head=None`` silences nothing."""
    mha = model.layers[layer]
    D = mha.head_dim

    def silence(module: nn.Module, args: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
        heads = args[0].clone()  # (B, T, H): the heads side by side, before the output projection
        heads[..., head * D:(head + 1) * D] = 0
        return (heads,)

    handle = mha.out.register_forward_pre_hook(silence) if head is not None else None
    try:
        device = next(model.parameters()).device
        with torch.no_grad():
            logits, _ = model(batch["input_ids"].to(device), batch["attention_mask"].to(device))
    finally:
        if handle is not None:
            handle.remove()
    tags, predicted = batch["labels"], logits.argmax(-1).cpu()
    polysemous = tags > 0  # tag 0 is "-", the words without a sense
    return (predicted[polysemous] == tags[polysemous]).float().mean().item()


@checker
def check_head_ablation(answer: float, model: SelfAttentionTagger, batch: Mapping[str, torch.Tensor]) -> bool:
    """``answer``: the lowest sense accuracy on ``batch`` when one head of layer 0 of the trained ``model`` is
    silenced (each in turn), within 0.001; recomputed here with the same silencing."""
    name = "check_head_ablation"
    value = number(name, answer)
    if not (isinstance(model, SelfAttentionTagger) and isinstance(batch, Mapping) and "labels" in batch):
        return report(name, False, "pass the notebook's trained `model` and `val_batch` after your answer.")
    heads = model.layers[0].num_heads
    per_head = [ablated_sense_accuracy(model, batch, 0, h) for h in range(heads)]
    worst = min(range(heads), key=per_head.__getitem__)
    if abs(value - per_head[worst]) <= 1e-3:
        full = ablated_sense_accuracy(model, batch, 0, None)
        others = ", ".join(f"{a:.3f}" for h, a in enumerate(per_head) if h != worst)
        return report(name, True, f"correct: without head {worst} of layer 0 the sense accuracy falls from {full:.3f} "
                                  f"to {per_head[worst]:.3f} (the other heads: {others}).")
    if abs(value - ablated_sense_accuracy(model, batch, 0, None)) <= 1e-3:
        return report(name, False, "that is the accuracy with every head: silence one head at a time (set its D "
                                   "features to 0 before layer.out).")
    if any(abs(value - a) <= 1e-3 for a in per_head):
        return report(name, False, "that is the accuracy without one of the heads, but silencing another one "
                                   "costs more: try all of them and keep the lowest.")
    layer1 = [ablated_sense_accuracy(model, batch, 1, h) for h in range(model.layers[1].num_heads)] \
        if len(model.layers) > 1 else []
    if any(abs(value - a) <= 1e-3 for a in layer1):
        return report(name, False, "that is a head of layer 1: the exercise asks about layer 0 (model.layers[0]).")
    return report(name, False, f"silencing each head of layer 0 gives none of the accuracies {value:.3f}: zero "
                               "features h·D … (h+1)·D − 1 of the input of model.layers[0].out, then count the "
                               "polysemous words (tag > 0) tagged right.")
