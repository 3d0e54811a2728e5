"""Multi-head attention: Q, K, V projections, heads as subspaces of size H/A, the output projection.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from course_lib.arguments import check_features, checked_inputs, should_check
from course_lib.attention.functions import _prepare_mask, scaled_dot_product_attention


def multi_head_parameter_count(d_model: int, bias: bool = True) -> int:
    """Parameters of multi-head attention: four H x H projections (Q, K, V, out), 4H² (+ 4H biases).

    The count does not depend on the number of heads. BERT-base (H = 768):

    >>> multi_head_parameter_count(768)
    2362368
    """
    return 4 * d_model * d_model + (4 * d_model if bias else 0)


class MultiHeadAttention(nn.Module):
    """Multi-head attention with separate query, key, value and output projections (H -> H each).

    Each of the A heads attends in its own subspace of size D = H / A; the heads' outputs are
    concatenated back to H and mixed by ``out``. ``forward`` returns the weights (B, A, T_q, T_k)
    when asked, for the attention explorer; otherwise it uses torch's fused
    ``scaled_dot_product_attention``, which gives the same output faster.
    """

    def __init__(self, d_model: int, num_heads: int, dropout: float = 0.0, bias: bool = True) -> None:
        super().__init__()
        if d_model % num_heads != 0:
            raise ValueError(f"d_model={d_model} must be divisible by num_heads={num_heads}")
        self.d_model, self.num_heads, self.head_dim = d_model, num_heads, d_model // num_heads
        self.dropout = dropout
        self.query = nn.Linear(d_model, d_model, bias=bias)
        self.key = nn.Linear(d_model, d_model, bias=bias)
        self.value = nn.Linear(d_model, d_model, bias=bias)
        self.out = nn.Linear(d_model, d_model, bias=bias)

    def forward(self, query: Tensor, key: Tensor, value: Tensor, mask: Tensor | None = None,
                need_weights: bool = False) -> tuple[Tensor, Tensor | None]:
        """query (B, T_q, H), key, value (B, T_k, H) -> out (B, T_q, H), weights (B, A, T_q, T_k) or None."""
        if should_check():  # skipped in the layers of a stack that has checked its input once
            self.check_inputs(query, key, value)
        B, T_q, C = query.shape
        T_k = key.shape[1]
        A, D = self.num_heads, self.head_dim
        q = self.query(query).view(B, T_q, A, D).transpose(1, 2)  # (B, A, T_q, D)
        k = self.key(key).view(B, T_k, A, D).transpose(1, 2)  # (B, A, T_k, D)
        v = self.value(value).view(B, T_k, A, D).transpose(1, 2)  # (B, A, T_k, D)
        m = _prepare_mask(mask, B, A, T_q, T_k)
        p = self.dropout if self.training else 0.0
        if need_weights:
            with checked_inputs():  # q, k, v and the mask fit: checked above
                y, weights = scaled_dot_product_attention(q, k, v, m, dropout_p=p)
        else:
            y, weights = F.scaled_dot_product_attention(q, k, v, attn_mask=m, dropout_p=p), None
        y = y.transpose(1, 2).reshape(B, T_q, C)  # (B, T_q, H): heads concatenated
        return self.out(y), weights

    def check_inputs(self, query: Tensor, key: Tensor, value: Tensor) -> None:
        """Raise, naming the argument, unless query (B, T_q, H), key and value (B, T_k, H) fit (H = d_model)."""
        B = check_features(query, "query", self.d_model).shape[0]
        check_features(key, "key", self.d_model, batch=B)
        check_features(value, "value", self.d_model, batch=B)
        if key.shape[1] != value.shape[1]:
            raise ValueError(f"key {tuple(key.shape)} and value {tuple(value.shape)} must have one vector per source "
                             "position each (the same T_k)")

    def extra_repr(self) -> str:
        return f"d_model={self.d_model}, num_heads={self.num_heads}, dropout={self.dropout}"

    def num_parameters(self) -> int:
        """Number of parameters; equals ``multi_head_parameter_count(d_model, bias)``."""
        return sum(p.numel() for p in self.parameters())

    @classmethod
    def from_torch(cls, mha: nn.MultiheadAttention) -> MultiHeadAttention:
        """Copy the weights of a ``torch.nn.MultiheadAttention`` (same embed dim for q, k, v).

        The result gives the same outputs as ``mha`` (with ``batch_first=True``; the weights do not
        depend on the layout). Remember that torch's boolean masks mean True = ignore.
        """
        if not mha._qkv_same_embed_dim or mha.bias_k is not None or mha.add_zero_attn:
            raise ValueError("from_torch supports nn.MultiheadAttention with kdim = vdim = embed_dim, "
                             "add_bias_kv=False and add_zero_attn=False")
        bias = mha.in_proj_bias is not None
        new = cls(mha.embed_dim, mha.num_heads, dropout=mha.dropout, bias=bias)
        new.to(device=mha.in_proj_weight.device, dtype=mha.in_proj_weight.dtype)
        with torch.no_grad():
            for i, lin in enumerate((new.query, new.key, new.value)):  # in_proj stacks W_q, W_k, W_v
                lin.weight.copy_(mha.in_proj_weight.chunk(3)[i])
                if bias:
                    lin.bias.copy_(mha.in_proj_bias.chunk(3)[i])
            new.out.weight.copy_(mha.out_proj.weight)
            if bias:
                new.out.bias.copy_(mha.out_proj.bias)
        return new.train(mha.training)
