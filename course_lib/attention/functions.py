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
(batch, head, query) position. (Inside a model that has checked its mask once at its boundary, in
``course_lib.arguments.checked_inputs()``, the layers skip this test: the model's check covers it.)

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

from course_lib.arguments import should_check


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
    if not should_check():  # a model checked its mask once, at its boundary; not again in every layer
        return m
    empty = ~m.any(dim=-1)  # (B|1, A|1, T_q|1): rows that allow no key
    if empty.any():
        b, a, t = empty.nonzero()[0].tolist()
        raise ValueError(f"the mask allows no key for batch {b}, head {a}, query {t} (softmax over nothing "
                         "is undefined): every query needs at least one True (True = may attend)")
    return m


def _check_qkv(q: Tensor, k: Tensor, v: Tensor) -> None:
    """Raise unless q (..., T_q, D), k (..., T_k, D), v (..., T_k, D_v) are floating, 3-D or 4-D, and fit."""
    for name, x in (("q", q), ("k", k), ("v", v)):
        if not isinstance(x, Tensor) or not x.is_floating_point():
            kind = x.dtype if isinstance(x, Tensor) else type(x).__name__
            raise TypeError(f"{name} must be a floating tensor (B, T, D) or (B, A, T, D), got {kind}")
    shapes = f"q {tuple(q.shape)}, k {tuple(k.shape)}, v {tuple(v.shape)}"
    if q.dim() not in (3, 4) or k.dim() != q.dim() or v.dim() != q.dim():
        raise ValueError(f"q, k, v must all be (B, T, D) or (B, A, T, D), got {shapes}")
    if not q.shape[:-2] == k.shape[:-2] == v.shape[:-2]:
        raise ValueError(f"q, k, v must share their leading (batch, head) dimensions, got {shapes}")
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"q and k must have the same width D (their dot products are the scores), got {shapes}")
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(f"k and v must have one row per key (the same T_k), got {shapes}")


def scaled_dot_product_attention(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None = None,
                                 dropout_p: float = 0.0) -> tuple[Tensor, Tensor]:
    """softmax(Q Kᵀ / √D) V, written out, returning the output and the attention weights.

    q: (B, T_q, D) or (B, A, T_q, D); k: (..., T_k, D); v: (..., T_k, D_v), all with the same
    leading dimensions. Returns ``out`` (..., T_q, D_v) and ``weights`` (..., T_q, T_k), whose
    rows sum to 1 and are exactly 0 where the mask is False. ``weights`` are taken before
    dropout (they are the attention distribution); ``dropout_p`` drops weights of the output only.
    """
    if should_check():
        _check_qkv(q, k, v)
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
