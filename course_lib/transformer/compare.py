"""CNN vs RNN vs self-attention, one layer each of the same width (notebook 08).

Three questions, each answered by measuring:

- **receptive field**: which input positions can change output position t? (``receptive_field``,
  from the gradient, so it is what the layer does, not what a formula says);
- **path length**: how many steps separate the first token from the last (``path_lengths``);
- **time**: forward + backward milliseconds against sequence length (``time_layers``): the LSTM runs
  T steps one after another, attention a few large matrix products whatever T is.

>>> layers = matched_layers(width=64)
>>> receptive_field(layers["1-D CNN"], T=9, position=4)
[3, 4, 5]
"""

from __future__ import annotations

import copy
import math
import statistics
import time
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from course_lib.attention import MultiHeadAttention


class ConvLayer(nn.Module):
    """A 1-D convolution over positions, padded so that T stays T: (B, T, C) -> (B, T, C)."""

    def __init__(self, width: int, kernel_size: int = 3) -> None:
        super().__init__()
        if kernel_size % 2 == 0:
            raise ValueError(f"use an odd kernel_size so the window is centred, got {kernel_size}")
        self.width, self.kernel_size = width, kernel_size
        self.conv = nn.Conv1d(width, width, kernel_size, padding=kernel_size // 2)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(x.transpose(1, 2)).transpose(1, 2)  # Conv1d wants (B, C, T)


class LSTMLayer(nn.Module):
    """One left-to-right LSTM layer: (B, T, C) -> (B, T, C), the hidden state at every step."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.width = width
        self.lstm = nn.LSTM(width, width, batch_first=True)

    def forward(self, x: Tensor) -> Tensor:
        return self.lstm(x)[0]


class SelfAttentionLayer(nn.Module):
    """Multi-head self-attention (no mask): (B, T, C) -> (B, T, C)."""

    def __init__(self, width: int, num_heads: int = 4) -> None:
        super().__init__()
        self.width = width
        self.attn = MultiHeadAttention(width, num_heads)

    def forward(self, x: Tensor) -> Tensor:
        return self.attn(x, x, x)[0]


def matched_layers(width: int = 128, kernel_size: int = 3, num_heads: int = 4) -> dict[str, nn.Module]:
    """One layer of each kind, input and output width ``width``: 8C² (LSTM), kC² (CNN), 4C² (attention)."""
    return {"LSTM": LSTMLayer(width), "1-D CNN": ConvLayer(width, kernel_size),
            "self-attention": SelfAttentionLayer(width, num_heads)}


def receptive_field(layer: nn.Module, T: int, position: int, num_layers: int = 1) -> list[int]:
    """Input positions whose change moves output ``position``: the non-zero rows of its gradient.

    ``num_layers`` applies the same layer that many times (a stack with shared weights is enough to
    see how far information travels).
    """
    width = layer.width
    x = torch.randn(1, T, width, dtype=torch.float64, requires_grad=True)
    layer = copy.deepcopy(layer).double()  # float64: a tiny true gradient is not lost to rounding
    y = x
    for _ in range(num_layers):
        y = layer(y)
    y[0, position].sum().backward()
    return (x.grad[0].abs().sum(-1) > 0).nonzero().flatten().tolist()


def path_lengths(n: int, kernel_size: int = 3) -> dict[str, dict[str, int]]:
    """For a sentence of ``n`` tokens: layers needed for the first token to reach the last one, and the
    sequential steps and the longest path (in steps) between them (Vaswani et al. 2017, Table 1)."""
    cnn_layers = math.ceil((n - 1) / (kernel_size // 2))  # a centred window of k moves k // 2 positions
    return {
        "LSTM": {"layers": 1, "sequential steps": n, "max path length": n - 1},
        "1-D CNN": {"layers": cnn_layers, "sequential steps": 1, "max path length": cnn_layers},
        "self-attention": {"layers": 1, "sequential steps": 1, "max path length": 1},
    }


def time_layers(lengths: Sequence[int], batch_size: int = 16, width: int = 128, repeats: int = 5,
                seed: int = 0) -> dict[str, dict[int, float]]:
    """Median milliseconds of forward + backward for each layer of ``matched_layers(width)``, per length.

    The LSTM runs with oneDNN (mkldnn) off: on small CPUs torch's native LSTM path is much faster
    (4-13x in training on a 2-core CPU); the convolution keeps oneDNN, which is its fast path.
    """
    torch.manual_seed(seed)
    layers = matched_layers(width)
    out: dict[str, dict[int, float]] = {name: {} for name in layers}
    for T in lengths:
        x = torch.randn(batch_size, T, width)
        for name, layer in layers.items():
            def step(layer: nn.Module = layer, x: torch.Tensor = x) -> None:
                layer.zero_grad(set_to_none=True)
                layer(x).sum().backward()

            times = []
            mkldnn = torch.backends.mkldnn.enabled
            torch.backends.mkldnn.enabled = mkldnn and name != "LSTM"  # convolutions keep oneDNN
            try:
                step()  # warm-up
                for _ in range(repeats):
                    start = time.perf_counter()
                    step()
                    times.append((time.perf_counter() - start) * 1e3)
            finally:
                torch.backends.mkldnn.enabled = mkldnn
            out[name][T] = statistics.median(times)
    return out
