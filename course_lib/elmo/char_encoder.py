"""ELMo's character-based token layer: characters -> CNN with max-pooling -> highway layers -> projection.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

NUM_CHARS = 260  # byte values 1..256, padding 0, begin-of-word 257, end-of-word 258


BOW, EOW = 257, 258


def word_characters(words: Sequence[str], max_chars: int) -> torch.Tensor:
    """Character ids (len(words), max_chars): [BOW, bytes + 1 ..., EOW], cut to fit, padded with 0."""
    out = torch.zeros(len(words), max_chars, dtype=torch.long)
    for i, word in enumerate(words):
        ids = [BOW] + [b + 1 for b in word.encode("utf-8")][: max_chars - 2] + [EOW]
        out[i, : len(ids)] = torch.tensor(ids)
    return out


class Highway(nn.Module):
    """y = g ⊙ relu(W_h x) + (1 - g) ⊙ x, with the gate g = σ(W_g x) (bias -1: carry x at the start)."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.transform, self.gate = nn.Linear(size, size), nn.Linear(size, size)
        nn.init.constant_(self.gate.bias, -1.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        g = torch.sigmoid(self.gate(x))
        return g * F.relu(self.transform(x)) + (1 - g) * x


class CharEncoder(nn.Module):
    """Characters of each word -> one vector: embedding, CNN max-pooled over time, highway, projection.

    char_ids (B, T, W) -> (B, T, output_size). Character id 0 is padding.
    """

    def __init__(self, output_size: int, char_embedding_size: int = 16,
                 filters: Sequence[tuple[int, int]] = ((1, 32), (2, 32), (3, 64)), num_highway: int = 2) -> None:
        super().__init__()
        self.embedding = nn.Embedding(NUM_CHARS, char_embedding_size, padding_idx=0)
        self.convs = nn.ModuleList(nn.Conv1d(char_embedding_size, n, width) for width, n in filters)
        size = sum(n for _, n in filters)
        self.highways = nn.ModuleList(Highway(size) for _ in range(num_highway))
        self.projection = nn.Linear(size, output_size)

    def forward(self, char_ids: torch.Tensor) -> torch.Tensor:
        B, T, W = char_ids.shape
        c = self.embedding(char_ids.view(B * T, W)).transpose(1, 2)  # (B*T, C, W)
        x = torch.cat([torch.tanh(conv(c)).max(dim=-1).values for conv in self.convs], dim=-1)  # (B*T, F)
        for highway in self.highways:
            x = highway(x)
        return self.projection(x).view(B, T, -1)  # (B, T, D)
