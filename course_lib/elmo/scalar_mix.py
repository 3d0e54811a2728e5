"""ELMo's scalar mix: ELMo_task = γ · Σ_j softmax(w)_j · h_j over the biLM's L + 1 layers.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from course_lib.arguments import check_int


class ScalarMix(nn.Module):
    """ELMo_task = γ · Σ_j s_j h_j with s = softmax(w); w (num_layers,) and γ learned per task.

    ``forward(layers, mask=None)``: layers is a list of num_layers tensors of one shape, (B, T, C) or
    (N, C); mask (B, T) is True at real tokens. With ``do_layer_norm`` each layer is first normalized
    with the mean and variance of its unmasked positions. Layers of different shapes raise: summing
    them would broadcast one into the other's shape without a word.
    """

    def __init__(self, num_layers: int, do_layer_norm: bool = False) -> None:
        super().__init__()
        check_int(num_layers, "num_layers", minimum=1)
        self.num_layers, self.do_layer_norm = num_layers, do_layer_norm
        self.scalar_parameters = nn.Parameter(torch.zeros(num_layers))  # w: equal weights at the start
        self.gamma = nn.Parameter(torch.ones(()))

    def weights(self) -> torch.Tensor:
        """The normalized s_j (num_layers,), detached: what the layer-weight figures draw."""
        return torch.softmax(self.scalar_parameters.detach(), dim=0)

    def forward(self, layers: Sequence[torch.Tensor], mask: torch.Tensor | None = None) -> torch.Tensor:
        check_layers(layers, self.num_layers, "ScalarMix")
        s = torch.softmax(self.scalar_parameters, dim=0)
        if mask is not None and tuple(mask.shape) != tuple(layers[0].shape[:-1]):
            raise ValueError(f"ScalarMix: mask has shape {tuple(mask.shape)} but the layers are "
                             f"{tuple(layers[0].shape)}: the mask must be {tuple(layers[0].shape[:-1])} (one entry per token)")
        if self.do_layer_norm:
            if mask is None:
                mask = torch.ones(layers[0].shape[:2], dtype=torch.bool, device=layers[0].device)
            layers = [_masked_layer_norm(h, mask) for h in layers]
        return self.gamma * sum(s[j] * h for j, h in enumerate(layers))


def check_layers(layers: Sequence[torch.Tensor], num_layers: int | None, who: str) -> None:
    """Raise unless ``layers`` are ``num_layers`` tensors (any number when None) of one shape, with channels."""
    if isinstance(layers, torch.Tensor):
        layers = list(layers)
    if num_layers is not None and len(layers) != num_layers:
        raise ValueError(f"{who} expects {num_layers} layers, got {len(layers)}")
    wrong = [j for j, h in enumerate(layers) if not isinstance(h, torch.Tensor)]
    if wrong:
        raise TypeError(f"{who}: layer {wrong[0]} is a {type(layers[wrong[0]]).__name__}, not a tensor")
    shapes = [tuple(h.shape) for h in layers]
    if len(set(shapes)) > 1:
        raise ValueError(f"{who}: the layers must all have one shape, got {shapes}: mixing them would "
                         f"broadcast one into another; pass the L + 1 layers of one model on the same tokens")
    if shapes and len(shapes[0]) < 2:
        raise ValueError(f"{who}: each layer must be (..., C) with at least two dimensions, got {shapes[0]}")


def _masked_layer_norm(h: torch.Tensor, mask: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    m = mask[..., None].to(h.dtype)  # (B, T, 1)
    n = m.sum() * h.shape[-1]
    mean = (h * m).sum() / n
    var = (((h - mean) * m) ** 2).sum() / n
    return (h - mean) / torch.sqrt(var + eps)
