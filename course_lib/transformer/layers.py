"""The Transformer's parts: positional encodings, the position-wise FFN, encoder and decoder layers, stacks.

Every attention inside is ``course_lib.attention.MultiHeadAttention`` (masks: boolean, True = may
attend). Each layer returns ``(output, weights)``; the weights are ``None`` unless ``need_weights=True``,
for the attention explorer.

Sub-module names, kept short and flat so that BERT (Hugging Face names) maps onto them key for key:

    Hugging Face BertLayer            TransformerEncoderLayer (post-LN)   nn.TransformerEncoderLayer
    attention.self.query/key/value    self_attn.query/key/value           self_attn.in_proj_weight (stacked)
    attention.output.dense            self_attn.out                       self_attn.out_proj
    attention.output.LayerNorm        norm1                               norm1
    intermediate.dense                ffn.linear1                         linear1
    output.dense                      ffn.linear2                         linear2
    output.LayerNorm                  norm2                               norm2

``BERT_LAYER_NAMES`` holds the first two columns.

>>> layer = TransformerEncoderLayer(d_model=32, num_heads=4, d_ff=64)
>>> y, w = layer(torch.randn(2, 5, 32), need_weights=True)
>>> y.shape, w.shape
(torch.Size([2, 5, 32]), torch.Size([2, 4, 5, 5]))
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from course_lib.arguments import check_features, checked_inputs, should_check
from course_lib.attention import MultiHeadAttention, causal_mask, combine_masks
from course_lib.attention.functions import _prepare_mask

BERT_LAYER_NAMES = {  # Hugging Face BertLayer prefix -> TransformerEncoderLayer prefix
    "attention.self.query": "self_attn.query",
    "attention.self.key": "self_attn.key",
    "attention.self.value": "self_attn.value",
    "attention.output.dense": "self_attn.out",
    "attention.output.LayerNorm": "norm1",
    "intermediate.dense": "ffn.linear1",
    "output.dense": "ffn.linear2",
    "output.LayerNorm": "norm2",
}


_ACTIVATIONS = {"relu": F.relu, "gelu": F.gelu}


class FeedForward(nn.Module):
    """Position-wise FFN: linear2(dropout(act(linear1(x)))), applied to every position alone. (B, T, C) -> same."""

    def __init__(self, d_model: int, d_ff: int, dropout: float = 0.0, activation: str = "relu") -> None:
        super().__init__()
        if activation not in _ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}")
        self.activation = activation
        self.linear1 = nn.Linear(d_model, d_ff)  # W1: C -> d_ff (BERT: intermediate.dense)
        self.linear2 = nn.Linear(d_ff, d_model)  # W2: d_ff -> C (BERT: output.dense)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        return self.linear2(self.dropout(_ACTIVATIONS[self.activation](self.linear1(x))))


class TransformerEncoderLayer(nn.Module):
    """Self-attention, then FFN, each wrapped in a residual connection and LayerNorm ("Add & Norm").

    post-LN (default; the paper and BERT):  x = norm1(x + attn(x));  x = norm2(x + ffn(x))
    pre-LN (``norm_first=True``):           x = x + attn(norm1(x));  x = x + ffn(norm2(x))
    """

    def __init__(self, d_model: int, num_heads: int, d_ff: int, dropout: float = 0.1, activation: str = "relu",
                 norm_first: bool = False, layer_norm_eps: float = 1e-5) -> None:
        super().__init__()
        self.norm_first = norm_first
        self.self_attn = MultiHeadAttention(d_model, num_heads, dropout)
        self.norm1 = nn.LayerNorm(d_model, eps=layer_norm_eps)
        self.ffn = FeedForward(d_model, d_ff, dropout, activation)
        self.norm2 = nn.LayerNorm(d_model, eps=layer_norm_eps)
        self.dropout = nn.Dropout(dropout)  # on each sub-layer's output, before the residual sum

    def forward(self, x: Tensor, mask: Tensor | None = None,
                need_weights: bool = False) -> tuple[Tensor, Tensor | None]:
        """x (B, T, C), mask (True = may attend) -> (B, T, C), weights (B, A, T, T) or None."""
        if self.norm_first:
            h = self.norm1(x)
            a, weights = self.self_attn(h, h, h, mask, need_weights)
            x = x + self.dropout(a)
            return x + self.dropout(self.ffn(self.norm2(x))), weights
        a, weights = self.self_attn(x, x, x, mask, need_weights)
        x = self.norm1(x + self.dropout(a))
        return self.norm2(x + self.dropout(self.ffn(x))), weights

    @classmethod
    def from_bert(cls, layer: nn.Module, num_heads: int, activation: str = "gelu") -> TransformerEncoderLayer:
        """A copy of a BERT layer (``course_lib.bert``'s or Hugging Face's ``BertLayer``): outputs are equal.

        BERT's layer is this post-LN layer under other names; ``BERT_LAYER_NAMES`` renames every weight
        (``attention.self.query`` -> ``self_attn.query`` ...). ``activation``: BERT's ``hidden_act``.
        """
        state = layer.state_dict()
        d_model, d_ff = state["attention.self.query.weight"].shape[0], state["intermediate.dense.weight"].shape[0]
        eps = layer.attention.output.LayerNorm.eps
        new = cls(d_model, num_heads, d_ff, dropout=0.0, activation=activation, layer_norm_eps=eps)
        renamed = {}
        for key, value in state.items():
            prefix = next((p for p in BERT_LAYER_NAMES if key.startswith(p + ".")), None)
            if prefix is None:
                raise ValueError(f"{type(layer).__name__} has a weight {key!r} that no BERT_LAYER_NAMES entry maps")
            renamed[BERT_LAYER_NAMES[prefix] + key[len(prefix):]] = value
        new.load_state_dict(renamed)  # strict: every weight of the layer is filled
        return new.to(value.device).train(layer.training)

    @classmethod
    def from_torch(cls, layer: nn.TransformerEncoderLayer) -> TransformerEncoderLayer:
        """Copy an ``nn.TransformerEncoderLayer`` (relu or gelu, post- or pre-LN); outputs are equal."""
        activation = {F.relu: "relu", F.gelu: "gelu"}.get(layer.activation)
        if activation is None:
            raise ValueError(f"from_torch supports activation relu or gelu, got {layer.activation}")
        d_model, d_ff = layer.linear1.in_features, layer.linear1.out_features
        new = cls(d_model, layer.self_attn.num_heads, d_ff, layer.dropout.p, activation, layer.norm_first,
                  layer.norm1.eps)
        new.self_attn = MultiHeadAttention.from_torch(layer.self_attn)
        pairs = ((new.ffn.linear1, layer.linear1), (new.ffn.linear2, layer.linear2),
                 (new.norm1, layer.norm1), (new.norm2, layer.norm2))
        new.to(device=layer.linear1.weight.device, dtype=layer.linear1.weight.dtype)
        with torch.no_grad():
            for ours, theirs in pairs:
                ours.weight.copy_(theirs.weight)
                ours.bias.copy_(theirs.bias)
        return new.train(layer.training)


class DecoderWeights(NamedTuple):
    """A decoder layer's attention: masked self-attention (B, A, T, T) and cross-attention (B, A, T, S)."""

    self_attention: Tensor
    cross_attention: Tensor


class TransformerDecoderLayer(nn.Module):
    """Masked self-attention, encoder–decoder (cross-)attention, FFN; each with Add & Norm.

    The queries of the cross-attention come from the decoder, its keys and values from the encoder's
    output ``memory``: this is where each output position reads the source sentence.
    """

    def __init__(self, d_model: int, num_heads: int, d_ff: int, dropout: float = 0.1, activation: str = "relu",
                 norm_first: bool = False, layer_norm_eps: float = 1e-5) -> None:
        super().__init__()
        self.norm_first = norm_first
        self.self_attn = MultiHeadAttention(d_model, num_heads, dropout)
        self.norm1 = nn.LayerNorm(d_model, eps=layer_norm_eps)
        self.cross_attn = MultiHeadAttention(d_model, num_heads, dropout)
        self.norm2 = nn.LayerNorm(d_model, eps=layer_norm_eps)
        self.ffn = FeedForward(d_model, d_ff, dropout, activation)
        self.norm3 = nn.LayerNorm(d_model, eps=layer_norm_eps)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor, memory: Tensor, self_mask: Tensor | None = None,
                memory_mask: Tensor | None = None,
                need_weights: bool = False) -> tuple[Tensor, DecoderWeights | None]:
        """x (B, T, C), memory (B, S, C) -> (B, T, C) and ``DecoderWeights`` or None.

        ``self_mask`` must be causal (the stack passes ``causal_mask(T)``); ``memory_mask`` hides the
        source's padding, e.g. ``padding_mask(src_lengths)`` (B, 1, 1, S).
        """
        self_att = lambda h: self.self_attn(h, h, h, self_mask, need_weights)  # noqa: E731
        cross_att = lambda h: self.cross_attn(h, memory, memory, memory_mask, need_weights)  # noqa: E731
        if self.norm_first:
            a, w_self = self_att(self.norm1(x))
            x = x + self.dropout(a)
            c, w_cross = cross_att(self.norm2(x))
            x = x + self.dropout(c)
            x = x + self.dropout(self.ffn(self.norm3(x)))
        else:
            a, w_self = self_att(x)
            x = self.norm1(x + self.dropout(a))
            c, w_cross = cross_att(x)
            x = self.norm2(x + self.dropout(c))
            x = self.norm3(x + self.dropout(self.ffn(x)))
        return x, (DecoderWeights(w_self, w_cross) if need_weights else None)


class _Stack(nn.Module):
    """``num_layers`` layers of one kind; with pre-LN a final LayerNorm (``norm``), as pre-LN needs one."""

    layer_class: type[nn.Module]

    def __init__(self, num_layers: int, d_model: int, num_heads: int, d_ff: int, dropout: float = 0.1,
                 activation: str = "relu", norm_first: bool = False, layer_norm_eps: float = 1e-5) -> None:
        super().__init__()
        self.d_model, self.num_heads = d_model, num_heads
        self.layers = nn.ModuleList(
            self.layer_class(d_model, num_heads, d_ff, dropout, activation, norm_first, layer_norm_eps)
            for _ in range(num_layers))
        self.norm = nn.LayerNorm(d_model, eps=layer_norm_eps) if norm_first else nn.Identity()


class TransformerEncoder(_Stack):
    """``num_layers`` encoder layers; with pre-LN a final LayerNorm (``norm``)."""

    layer_class = TransformerEncoderLayer

    def forward(self, x: Tensor, mask: Tensor | None = None,
                need_weights: bool = False) -> tuple[Tensor, list[Tensor] | None]:
        """x (B, T, C) -> (B, T, C) and, when asked, one (B, A, T, T) weight tensor per layer."""
        if should_check():  # once here, not in each layer
            B, T, _ = check_features(x, "x", self.d_model).shape
            _prepare_mask(mask, B, self.num_heads, T, T)
        weights = []
        with checked_inputs():
            for layer in self.layers:
                x, w = layer(x, mask, need_weights)
                weights.append(w)
        return self.norm(x), (weights if need_weights else None)


class TransformerDecoder(_Stack):
    """``num_layers`` decoder layers. The causal mask is always applied: position t never sees t+1, t+2 …"""

    layer_class = TransformerDecoderLayer

    def forward(self, x: Tensor, memory: Tensor, memory_mask: Tensor | None = None,
                self_mask: Tensor | None = None,
                need_weights: bool = False) -> tuple[Tensor, list[DecoderWeights] | None]:
        """x (B, T, C), memory (B, S, C) -> (B, T, C) and, when asked, ``DecoderWeights`` per layer.

        ``self_mask`` (optional) is combined with the causal mask, e.g. to hide target padding.
        """
        if should_check():  # once here, not in each layer
            B, T, _ = check_features(x, "x", self.d_model).shape
            S = check_features(memory, "memory", self.d_model, batch=B).shape[1]
            _prepare_mask(memory_mask, B, self.num_heads, T, S)
        B, T, C = x.shape
        mask = combine_masks(causal_mask(T, device=x.device), self_mask)  # (1|B, 1, T, T)
        if should_check():
            _prepare_mask(mask, B, self.num_heads, T, T)
        weights = []
        with checked_inputs():
            for layer in self.layers:
                x, w = layer(x, memory, mask, memory_mask, need_weights)
                weights.append(w)
        return self.norm(x), (weights if need_weights else None)
