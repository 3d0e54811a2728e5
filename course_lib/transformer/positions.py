"""Positional encodings: sinusoidal (fixed), learned (BERT), none (order-blind).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


def _frequencies(d: int, base: float) -> Tensor:
    if d < 2 or d % 2:
        raise ValueError(f"sinusoidal encodings need an even width d >= 2, got {d}")
    return base ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)  # ω_i = 1 / base^(2i/d), (d/2,)


def sinusoidal_positions(T: int, d: int, base: float = 10000.0) -> Tensor:
    """(T, d) encodings of "Attention is all you need": PE[p, 2i] = sin(p ω_i), PE[p, 2i+1] = cos(p ω_i).

    ω_i = base^(-2i/d) runs from 1 (a period of 2π positions) down to 1/base (a period of 2π·base).

    >>> sinusoidal_positions(2, 4)[1].round(decimals=3).tolist()
    [0.841, 0.54, 0.01, 1.0]
    """
    omega = _frequencies(d, base)
    angles = torch.arange(T, dtype=torch.float64)[:, None] * omega  # (T, d/2)
    pe = torch.stack([angles.sin(), angles.cos()], dim=-1).view(T, d)  # sin, cos interleaved
    return pe.float()


def offset_matrix(k: int, d: int, base: float = 10000.0) -> Tensor:
    """The (d, d) matrix M_k with PE[p + k] = M_k PE[p] for every position p (k may be negative).

    Block diagonal: for each frequency ω a 2 x 2 rotation by the angle k ω, because
    sin(ω(p+k)) = cos(kω) sin(pω) + sin(kω) cos(pω) and cos(ω(p+k)) = cos(kω) cos(pω) - sin(kω) sin(pω).
    It does not depend on p: a shift by k is the same linear map at every position.
    """
    c, s = (k * _frequencies(d, base)).cos(), (k * _frequencies(d, base)).sin()
    m = torch.zeros(d, d, dtype=torch.float64)
    i = torch.arange(0, d, 2)
    m[i, i], m[i, i + 1], m[i + 1, i], m[i + 1, i + 1] = c, s, -s, c
    return m.float()


class SinusoidalPositionalEncoding(nn.Module):
    """Adds the fixed sinusoidal encodings to x (B, T, C); nothing is learned, any length works."""

    def __init__(self, d_model: int, base: float = 10000.0) -> None:
        super().__init__()
        _frequencies(d_model, base)  # checks d_model
        self.d_model, self.base = d_model, base

    def forward(self, x: Tensor) -> Tensor:
        B, T, C = x.shape
        return x + sinusoidal_positions(T, C, self.base).to(device=x.device, dtype=x.dtype)

    def extra_repr(self) -> str:
        return f"d_model={self.d_model}, base={self.base:g}"


class LearnedPositionalEmbedding(nn.Module):
    """Adds one learned vector per position (BERT's ``position_embeddings``) to x (B, T, C).

    ``weight`` is (max_len, d_model), initialised N(0, 0.02²) as in BERT; longer inputs are an error,
    because no vector was ever trained for them.
    """

    def __init__(self, max_len: int, d_model: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(max_len, d_model) * 0.02)  # (max_len, C)

    def forward(self, x: Tensor) -> Tensor:
        B, T, C = x.shape
        if T > self.weight.shape[0]:
            raise ValueError(f"sequence of length {T} but only {self.weight.shape[0]} learned positions")
        return x + self.weight[:T]


class NoPositions(nn.Module):
    """Adds nothing: the order-blind baseline of notebook 07."""

    def forward(self, x: Tensor) -> Tensor:
        return x


def positional_encoding(kind: str, d_model: int, max_len: int) -> nn.Module:
    """``"sinusoidal"``, ``"learned"`` or ``"none"`` as a module that adds positions to x (B, T, C)."""
    if kind == "sinusoidal":
        return SinusoidalPositionalEncoding(d_model)
    if kind == "learned":
        return LearnedPositionalEmbedding(max_len, d_model)
    if kind == "none":
        return NoPositions()
    raise ValueError(f"positions must be 'sinusoidal', 'learned' or 'none', got {kind!r}")
