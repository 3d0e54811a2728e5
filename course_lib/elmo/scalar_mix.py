"""ELMo's scalar mix: ELMo_task = γ · Σ_j softmax(w)_j · h_j over the biLM's L + 1 layers.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class ScalarMix(nn.Module):
    """ELMo_task = γ · Σ_j s_j h_j with s = softmax(w); w (num_layers,) and γ learned per task.

    ``forward(layers, mask=None)``: layers is a list of num_layers tensors (B, T, C); mask (B, T) is
    True at real tokens. With ``do_layer_norm`` each layer is first normalized with the mean and
    variance of its unmasked positions.
    """

    def __init__(self, num_layers: int, do_layer_norm: bool = False) -> None:
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"num_layers must be >= 1, got {num_layers}")
        self.num_layers, self.do_layer_norm = num_layers, do_layer_norm
        self.scalar_parameters = nn.Parameter(torch.zeros(num_layers))  # w: equal weights at the start
        self.gamma = nn.Parameter(torch.ones(()))

    def weights(self) -> torch.Tensor:
        """The normalized s_j (num_layers,), detached: what the layer-weight figures draw."""
        return torch.softmax(self.scalar_parameters.detach(), dim=0)

    def forward(self, layers: Sequence[torch.Tensor], mask: torch.Tensor | None = None) -> torch.Tensor:
        if len(layers) != self.num_layers:
            raise ValueError(f"ScalarMix expects {self.num_layers} layers, got {len(layers)}")
        s = torch.softmax(self.scalar_parameters, dim=0)
        if self.do_layer_norm:
            if mask is None:
                mask = torch.ones(layers[0].shape[:2], dtype=torch.bool, device=layers[0].device)
            layers = [_masked_layer_norm(h, mask) for h in layers]
        return self.gamma * sum(s[j] * h for j, h in enumerate(layers))


def _masked_layer_norm(h: torch.Tensor, mask: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    m = mask[..., None].to(h.dtype)  # (B, T, 1)
    n = m.sum() * h.shape[-1]
    mean = (h * m).sum() / n
    var = (((h - mean) * m) ** 2).sum() / n
    return (h - mean) / torch.sqrt(var + eps)
