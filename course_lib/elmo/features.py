"""Frozen biLM features: every layer of every word (or of chosen words), by direction, mixed by hand.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from course_lib.elmo.bilm import PAD_ID, BiLM
from course_lib.elmo.scalar_mix import check_layers


@torch.no_grad()
def layer_features(bilm: BiLM, sentences: Sequence[Sequence[str]], positions: Sequence[int] | None = None,
                   batch_size: int = 256) -> tuple[list[torch.Tensor], torch.Tensor]:
    """Frozen biLM features of words: L + 1 tensors (N, 2D) and the word ids (N,).

    With ``positions``: the word ``sentences[i][positions[i]]`` (one row per sentence); without: every
    word of every sentence, in order.
    """
    was_training = bilm.training
    bilm.eval()
    per_layer: list[list[torch.Tensor]] = [[] for _ in range(bilm.config.num_layers + 1)]
    words = []
    for start in range(0, len(sentences), batch_size):
        ids = bilm.encode(sentences[start : start + batch_size])
        layers = bilm.layers(ids)
        if positions is None:
            mask = ids != PAD_ID
            for j, h in enumerate(layers):
                per_layer[j].append(h[mask])
            words.append(ids[mask])
        else:
            at = torch.tensor(positions[start : start + batch_size], device=ids.device)
            rows = torch.arange(len(at), device=ids.device)
            for j, h in enumerate(layers):
                per_layer[j].append(h[rows, at])
            words.append(ids[rows, at])
    bilm.train(was_training)
    return [torch.cat(p).cpu() for p in per_layer], torch.cat(words).cpu()


def mix_layers(layers: Sequence[torch.Tensor], weights: Sequence[float], gamma: float = 1.0) -> torch.Tensor:
    """γ · Σ_j s_j h_j with the given (already normalized) weights s_j: features for a hand-set mix."""
    check_layers(layers, len(weights), "mix_layers")
    return gamma * sum(w * h for w, h in zip(weights, layers, strict=True))


DIRECTIONS = ("forward", "backward", "both")


def direction_features(layers: Sequence[torch.Tensor], direction: str) -> torch.Tensor:
    """The LSTM layers 1 .. L of one direction (or both), concatenated: (N, L·D) or (N, L·2D).

    ``layers`` are the L + 1 frozen layers (N, 2D) with the forward half first. The forward half at a
    word has read the words up to it, the backward half the words from it to the end.
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
    if len(layers) < 2:
        raise ValueError("need the token layer and at least one LSTM layer")
    D = layers[0].shape[-1] // 2
    part = {"forward": slice(0, D), "backward": slice(D, 2 * D), "both": slice(0, 2 * D)}[direction]
    return torch.cat([h[:, part] for h in layers[1:]], dim=-1)
