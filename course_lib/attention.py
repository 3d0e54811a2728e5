"""Attention: scaled dot-product, additive (Bahdanau), masks, and multi-head attention.

Mask convention, used by every function and module here: a mask is a **boolean** tensor and
``True`` means "this query may attend to this key". It may have any of the shapes

    (T_q, T_k)            one pattern for every sequence (``causal_mask``)
    (B, T_q, T_k)         one pattern per sequence
    (B, A, T_q, T_k)      one pattern per sequence and head
    (B, 1, 1, T_k)        keys to ignore per sequence (what ``padding_mask`` returns)

and any size-1 dimension broadcasts. A 2-D mask is always (T_q, T_k), never (B, T): turn a
Hugging Face style ``attention_mask`` of shape (B, T) into a mask with ``padding_mask``.

Note that ``torch.nn.MultiheadAttention`` uses the opposite convention for its boolean masks
(``True`` = ignore); ``torch.nn.functional.scaled_dot_product_attention`` uses ours.

A query row whose mask allows no key at all has no defined softmax (0 / 0). Instead of
returning NaN silently, every function here raises a ``ValueError`` that names the first such
(batch, head, query) position.

>>> q = k = v = torch.randn(2, 5, 8)
>>> out, weights = scaled_dot_product_attention(q, k, v, mask=causal_mask(5))
>>> out.shape, weights.shape
(torch.Size([2, 5, 8]), torch.Size([2, 5, 5]))
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = [
    "AdditiveAttention",
    "MultiHeadAttention",
    "additive_attention",
    "causal_mask",
    "combine_masks",
    "multi_head_parameter_count",
    "padding_mask",
    "scaled_dot_product_attention",
]


# ----------------------------------------------------------------------------------------- masks

def causal_mask(T: int, device: torch.device | str | None = None) -> Tensor:
    """(T, T) boolean mask that lets query t attend to keys 0..t only (lower triangle is True).

    >>> causal_mask(3).int().tolist()
    [[1, 0, 0], [1, 1, 0], [1, 1, 1]]
    """
    if T < 1:
        raise ValueError(f"causal_mask needs T >= 1, got {T}")
    return torch.ones(T, T, dtype=torch.bool, device=device).tril()


def padding_mask(lengths_or_attention_mask: Tensor | Sequence[int], max_length: int | None = None) -> Tensor:
    """(B, 1, 1, T) boolean mask that is True on the real tokens of each sequence.

    Takes either the lengths (B,) of right-padded sequences, or an ``attention_mask`` (B, T) of
    0/1 (or booleans) as returned by ``course_lib.text.pad_batch`` and Hugging Face tokenizers.
    The two size-1 dimensions broadcast over heads and queries.

    >>> padding_mask([3, 1]).squeeze(1).squeeze(1).int().tolist()
    [[1, 1, 1], [1, 0, 0]]
    """
    x = torch.as_tensor(lengths_or_attention_mask)
    if x.dim() == 2:  # an attention_mask: 1 = real token
        if max_length is not None and max_length != x.shape[1]:
            raise ValueError(f"attention_mask has T={x.shape[1]} but max_length={max_length}")
        if x.dtype != torch.bool and not ((x == 0) | (x == 1)).all():
            raise ValueError("an attention_mask must hold only 0 and 1 (1 = real token)")
        keep = x.bool()
    elif x.dim() == 1:  # lengths
        if x.is_floating_point() or (x < 0).any():
            raise ValueError(f"lengths must be non-negative integers, got {x.tolist()}")
        T = int(x.max()) if max_length is None else max_length
        if (x > T).any():
            raise ValueError(f"a length exceeds max_length={T}: {x.tolist()}")
        keep = torch.arange(T, device=x.device) < x[:, None]  # (B, T)
    else:
        raise ValueError(f"expected lengths (B,) or an attention_mask (B, T), got shape {tuple(x.shape)}")
    return keep[:, None, None, :]  # (B, 1, 1, T)


def _as_4d(mask: Tensor) -> Tensor:
    """Lift a mask of 2, 3 or 4 dimensions to 4 without copying: (T_q, T_k) -> (1, 1, T_q, T_k)."""
    if not isinstance(mask, Tensor) or mask.dtype != torch.bool:
        kind = mask.dtype if isinstance(mask, Tensor) else type(mask).__name__
        raise TypeError(f"a mask must be a boolean tensor with True = may attend, got {kind}; "
                        "for a 0/1 attention_mask (B, T) use padding_mask(attention_mask)")
    if mask.dim() == 2:
        return mask[None, None]  # (1, 1, T_q, T_k)
    if mask.dim() == 3:
        return mask[:, None]  # (B, 1, T_q, T_k)
    if mask.dim() == 4:
        return mask
    raise ValueError(f"a mask must be (T_q, T_k), (B, T_q, T_k) or (B, A, T_q, T_k), got {tuple(mask.shape)}")


def combine_masks(*masks: Tensor | None) -> Tensor | None:
    """Logical AND of masks of any accepted shapes; ``None`` entries are skipped (all None -> None).

    >>> combine_masks(padding_mask([2, 3]), causal_mask(3)).shape
    torch.Size([2, 1, 3, 3])
    """
    present = [_as_4d(m) for m in masks if m is not None]
    if not present:
        return None
    out = present[0]
    for m in present[1:]:
        out = out & m  # broadcasts: (B, 1, 1, T) & (1, 1, T, T) -> (B, 1, T, T)
    return out


def _prepare_mask(mask: Tensor | None, B: int, A: int, T_q: int, T_k: int) -> Tensor | None:
    """Check a mask against scores of shape (B, A, T_q, T_k); return it 4-D, broadcastable to them."""
    if mask is None:
        return None
    m = _as_4d(mask)
    if any(s not in (1, full) for s, full in zip(m.shape, (B, A, T_q, T_k), strict=True)):
        raise ValueError(f"mask of shape {tuple(mask.shape)} does not fit attention scores of shape "
                         f"(B, A, T_q, T_k) = {(B, A, T_q, T_k)}")
    empty = ~m.any(dim=-1)  # (B|1, A|1, T_q|1): rows that allow no key
    if empty.any():
        b, a, t = empty.nonzero()[0].tolist()
        raise ValueError(f"the mask allows no key for batch {b}, head {a}, query {t} (softmax over nothing "
                         "is undefined): every query needs at least one True (True = may attend)")
    return m


# ------------------------------------------------------------------------- scaled dot-product

def scaled_dot_product_attention(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None = None,
                                 dropout_p: float = 0.0) -> tuple[Tensor, Tensor]:
    """softmax(Q Kᵀ / √D) V, written out, returning the output and the attention weights.

    q: (B, T_q, D) or (B, A, T_q, D); k: (..., T_k, D); v: (..., T_k, D_v), all with the same
    leading dimensions. Returns ``out`` (..., T_q, D_v) and ``weights`` (..., T_q, T_k), whose
    rows sum to 1 and are exactly 0 where the mask is False. ``weights`` are taken before
    dropout (they are the attention distribution); ``dropout_p`` drops weights of the output only.
    """
    if q.dim() not in (3, 4) or k.dim() != q.dim() or v.dim() != q.dim():
        raise ValueError(f"q, k, v must all be (B, T, D) or (B, A, T, D), got {tuple(q.shape)}, "
                         f"{tuple(k.shape)}, {tuple(v.shape)}")
    heads = q.dim() == 4
    if not heads:  # treat (B, T, D) as one head: (B, 1, T, D)
        q, k, v = q[:, None], k[:, None], v[:, None]
    B, A, T_q, D = q.shape
    T_k = k.shape[2]
    m = _prepare_mask(mask, B, A, T_q, T_k)
    if m is not None and not heads and m.shape[1] != 1:
        raise ValueError(f"a mask with {m.shape[1]} heads needs q of shape (B, A, T_q, D), got 3-D q")
    scores = q @ k.transpose(-2, -1) / math.sqrt(D)  # (B, A, T_q, T_k)
    if m is not None:
        scores = scores.masked_fill(~m, float("-inf"))  # exp(-inf) = 0: masked weights are exactly 0
    weights = scores.softmax(dim=-1)  # (B, A, T_q, T_k)
    dropped = F.dropout(weights, p=dropout_p) if dropout_p > 0 else weights
    out = dropped @ v  # (B, A, T_q, D_v)
    if not heads:
        out, weights = out[:, 0], weights[:, 0]  # (B, T_q, D_v), (B, T_q, T_k)
    return out, weights


# ------------------------------------------------------------------------------------ additive

def additive_attention(query: Tensor, key: Tensor, value: Tensor, w_query: Tensor, w_key: Tensor,
                       w_score: Tensor, mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """Bahdanau's additive attention: score(q, k) = w_scoreᵀ tanh(W_q q + W_k k).

    query (B, T_q, D_q), key (B, T_k, D_k), value (B, T_k, D_v); w_query (N, D_q), w_key (N, D_k)
    and w_score (N,) with N the hidden size. Returns ``out`` (B, T_q, D_v) and ``weights``
    (B, T_q, T_k). The mask follows the module convention (True = may attend).
    """
    B, T_q, _ = query.shape
    T_k = key.shape[1]
    m = _prepare_mask(mask, B, 1, T_q, T_k)
    hidden = (query @ w_query.T)[:, :, None, :] + (key @ w_key.T)[:, None, :, :]  # (B, T_q, T_k, N)
    scores = torch.tanh(hidden) @ w_score  # (B, T_q, T_k)
    if m is not None:
        scores = scores.masked_fill(~m[:, 0], float("-inf"))
    weights = scores.softmax(dim=-1)  # (B, T_q, T_k)
    return weights @ value, weights


class AdditiveAttention(nn.Module):
    """Additive (Bahdanau) attention with its three learned parts: W_q, W_k and the score vector."""

    def __init__(self, query_dim: int, key_dim: int, hidden: int) -> None:
        super().__init__()
        self.query = nn.Linear(query_dim, hidden, bias=False)  # W_q
        self.key = nn.Linear(key_dim, hidden, bias=False)  # W_k
        self.score = nn.Linear(hidden, 1, bias=False)  # w_score

    def forward(self, query: Tensor, key: Tensor, value: Tensor,
                mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """query (B, T_q, D_q), key (B, T_k, D_k), value (B, T_k, D_v) -> (B, T_q, D_v), (B, T_q, T_k)."""
        return additive_attention(query, key, value, self.query.weight, self.key.weight,
                                  self.score.weight[0], mask)


# --------------------------------------------------------------------------------- multi-head

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
        B, T_q, C = query.shape
        T_k = key.shape[1]
        A, D = self.num_heads, self.head_dim
        q = self.query(query).view(B, T_q, A, D).transpose(1, 2)  # (B, A, T_q, D)
        k = self.key(key).view(B, T_k, A, D).transpose(1, 2)  # (B, A, T_k, D)
        v = self.value(value).view(B, T_k, A, D).transpose(1, 2)  # (B, A, T_k, D)
        m = _prepare_mask(mask, B, A, T_q, T_k)
        p = self.dropout if self.training else 0.0
        if need_weights:
            y, weights = scaled_dot_product_attention(q, k, v, m, dropout_p=p)
        else:
            y, weights = F.scaled_dot_product_attention(q, k, v, attn_mask=m, dropout_p=p), None
        y = y.transpose(1, 2).reshape(B, T_q, C)  # (B, T_q, H): heads concatenated
        return self.out(y), weights

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
