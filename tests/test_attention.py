"""course_lib.attention: against torch's references, masks, causality, gradients, parameter count."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.testing import assert_close

from course_lib.attention import (
    AdditiveAttention,
    MultiHeadAttention,
    additive_attention,
    causal_mask,
    combine_masks,
    multi_head_parameter_count,
    padding_mask,
    scaled_dot_product_attention,
)


def random_mask(*shape: int) -> torch.Tensor:
    """A random boolean mask in which every query row may attend to at least key 0."""
    mask = torch.rand(*shape) > 0.4
    mask[..., 0] = True
    return mask


def torch_reference(q, k, v, mask):
    """torch's fused attention on (B, A, T, D) inputs, lifting 3-D inputs and masks like ours."""
    squeeze = q.dim() == 3
    if squeeze:
        q, k, v = q[:, None], k[:, None], v[:, None]
    if mask is not None and mask.dim() == 3:
        mask = mask[:, None]
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    return out[:, 0] if squeeze else out


# ------------------------------------------------------------------------------ masks

def test_causal_mask_is_lower_triangular() -> None:
    assert causal_mask(3).tolist() == [[True, False, False], [True, True, False], [True, True, True]]
    with pytest.raises(ValueError):
        causal_mask(0)


def test_padding_mask_from_lengths_and_attention_mask_agree() -> None:
    from_lengths = padding_mask([3, 1, 2])
    from_attention_mask = padding_mask(torch.tensor([[1, 1, 1], [1, 0, 0], [1, 1, 0]]))
    assert from_lengths.shape == (3, 1, 1, 3) and from_lengths.dtype == torch.bool
    assert torch.equal(from_lengths, from_attention_mask)
    assert padding_mask(torch.tensor([2]), max_length=4)[0, 0, 0].tolist() == [True, True, False, False]
    with pytest.raises(ValueError):
        padding_mask(torch.tensor([[1, 2]]))  # not 0/1
    with pytest.raises(ValueError):
        padding_mask([5], max_length=3)


def test_combine_masks_is_a_broadcast_and() -> None:
    combined = combine_masks(padding_mask([2, 3]), None, causal_mask(3))
    assert combined.shape == (2, 1, 3, 3)
    assert combined[0, 0].int().tolist() == [[1, 0, 0], [1, 1, 0], [1, 1, 0]]
    assert combined[1, 0].int().tolist() == [[1, 0, 0], [1, 1, 0], [1, 1, 1]]
    per_sequence = random_mask(2, 3, 3)  # (B, T_q, T_k) lines up with B, not with heads
    assert torch.equal(combine_masks(per_sequence, causal_mask(3))[:, 0], per_sequence & causal_mask(3))
    assert combine_masks(None, None) is None


def test_a_non_boolean_mask_is_refused_with_a_hint() -> None:
    q = torch.randn(2, 4, 8)
    with pytest.raises(TypeError, match="padding_mask"):
        scaled_dot_product_attention(q, q, q, mask=torch.ones(4, 4))


# ------------------------------------------------------------------- scaled dot-product

SHAPES = [  # q shape, T_k
    ((2, 5, 8), 5),
    ((3, 4, 6), 7),  # cross-attention: T_q != T_k
    ((2, 3, 5, 8), 5),
    ((1, 4, 6, 16), 9),
]


@pytest.mark.parametrize("q_shape,T_k", SHAPES)
@pytest.mark.parametrize("mask_kind", [None, "2d", "3d", "4d", "padding"])
def test_sdpa_matches_torch(q_shape, T_k, mask_kind) -> None:
    *lead, T_q, D = q_shape
    B = lead[0]
    q, k, v = torch.randn(q_shape), torch.randn(*lead, T_k, D), torch.randn(*lead, T_k, D + 2)
    mask = {None: None, "2d": random_mask(T_q, T_k), "3d": random_mask(B, T_q, T_k),
            "4d": random_mask(B, 1, T_q, T_k) if len(lead) == 1 else random_mask(*lead, T_q, T_k),
            "padding": padding_mask(torch.randint(1, T_k + 1, (B,)), max_length=T_k)}[mask_kind]
    out, weights = scaled_dot_product_attention(q, k, v, mask)
    assert out.shape == (*lead, T_q, D + 2) and weights.shape == (*lead, T_q, T_k)
    assert_close(out, torch_reference(q, k, v, mask), atol=1e-5, rtol=1e-5)


@settings(max_examples=25, deadline=None)
@given(B=st.integers(1, 3), A=st.integers(1, 3), T_q=st.integers(1, 6), T_k=st.integers(1, 6),
       D=st.integers(1, 8), seed=st.integers(0, 2**16))
def test_sdpa_matches_torch_on_random_sizes(B, A, T_q, T_k, D, seed) -> None:
    g = torch.Generator().manual_seed(seed)
    q, k, v = (torch.randn(B, A, T, D, generator=g) for T in (T_q, T_k, T_k))
    mask = torch.rand(B, A, T_q, T_k, generator=g) > 0.5
    mask[..., seed % T_k] = True
    out, _ = scaled_dot_product_attention(q, k, v, mask)
    assert_close(out, F.scaled_dot_product_attention(q, k, v, attn_mask=mask), atol=1e-5, rtol=1e-5)


def test_weights_sum_to_one_and_masked_weights_are_exactly_zero() -> None:
    q, k, v = torch.randn(2, 3, 5, 4), torch.randn(2, 3, 6, 4), torch.randn(2, 3, 6, 4)
    mask = random_mask(2, 3, 5, 6)
    _, weights = scaled_dot_product_attention(q, k, v, mask)
    assert_close(weights.sum(-1), torch.ones(2, 3, 5))
    assert (weights[~mask] == 0).all()
    assert (weights[mask] > 0).all()


def test_a_fully_masked_row_raises_and_names_it() -> None:
    q = torch.randn(2, 4, 8)
    mask = torch.ones(2, 4, 4, dtype=torch.bool)
    mask[1, 2] = False  # sequence 1, query 2 may attend to nothing
    with pytest.raises(ValueError, match="batch 1, head 0, query 2"):
        scaled_dot_product_attention(q, q, q, mask)
    mha = MultiHeadAttention(8, 2)
    for need_weights in (False, True):
        with pytest.raises(ValueError, match="batch 1, head 0, query 2"):
            mha(q, q, q, mask=mask, need_weights=need_weights)
    with pytest.raises(ValueError, match="allows no key"):
        AdditiveAttention(8, 8, 5)(q, q, q, mask=padding_mask([3, 0], max_length=4))


def test_dropout_leaves_the_returned_weights_a_distribution() -> None:
    q = torch.randn(2, 5, 8)
    out, weights = scaled_dot_product_attention(q, q, q, dropout_p=0.5)
    plain, _ = scaled_dot_product_attention(q, q, q)
    assert_close(weights.sum(-1), torch.ones(2, 5))
    assert not torch.allclose(out, plain)


def test_sdpa_gradcheck_float64() -> None:
    q, k, v = (torch.randn(2, 2, T, 3, dtype=torch.float64, requires_grad=True) for T in (3, 4, 4))
    mask = random_mask(2, 1, 3, 4)
    assert torch.autograd.gradcheck(lambda *t: scaled_dot_product_attention(*t, mask=mask), (q, k, v))


# ----------------------------------------------------------------------------- additive

def test_additive_attention_matches_the_formula() -> None:
    layer = AdditiveAttention(query_dim=3, key_dim=4, hidden=5)
    query, key, value = torch.randn(2, 2, 3), torch.randn(2, 6, 4), torch.randn(2, 6, 7)
    mask = padding_mask([6, 4])
    out, weights = layer(query, key, value, mask)
    assert out.shape == (2, 2, 7) and weights.shape == (2, 2, 6)
    b, i = 1, 1  # one query worked out by hand: score_j = w · tanh(W_q q + W_k k_j)
    scores = torch.stack([layer.score.weight[0] @ torch.tanh(layer.query.weight @ query[b, i]
                                                               + layer.key.weight @ key[b, j])
                          for j in range(4)])
    assert_close(weights[b, i, :4], scores.softmax(-1))
    assert (weights[1, :, 4:] == 0).all()
    assert_close(out[b, i], weights[b, i] @ value[b])


def test_additive_attention_gradcheck_float64() -> None:
    args = [torch.randn(*s, dtype=torch.float64, requires_grad=True)
            for s in [(2, 3, 3), (2, 4, 2), (2, 4, 2), (5, 3), (5, 2), (5,)]]
    mask = causal_mask(4)[:3]
    assert torch.autograd.gradcheck(lambda *t: additive_attention(*t, mask=mask), args)


# --------------------------------------------------------------------------- multi-head

def test_parameter_count_is_4h2_plus_4h() -> None:
    for H, A in [(16, 4), (64, 8), (768, 12)]:
        assert MultiHeadAttention(H, A).num_parameters() == 4 * H * H + 4 * H == multi_head_parameter_count(H)
    assert MultiHeadAttention(32, 4, bias=False).num_parameters() == 4 * 32 * 32
    assert multi_head_parameter_count(768) == 2_362_368  # BERT-base, per layer
    with pytest.raises(ValueError):
        MultiHeadAttention(10, 3)


def _pair(H: int = 16, A: int = 4, bias: bool = True) -> tuple[nn.MultiheadAttention, MultiHeadAttention]:
    reference = nn.MultiheadAttention(H, A, bias=bias, batch_first=True).eval()
    with torch.no_grad():  # torch starts the biases at zero: make them count
        for p in reference.parameters():
            p.add_(0.1 * torch.randn_like(p))
    return reference, MultiHeadAttention.from_torch(reference).eval()


@pytest.mark.parametrize("bias", [True, False])
def test_from_torch_self_attention_matches(bias) -> None:
    reference, ours = _pair(bias=bias)
    x = torch.randn(3, 7, 16, requires_grad=True)
    expected, expected_weights = reference(x, x, x, need_weights=True, average_attn_weights=False)
    for need_weights in (False, True):
        out, weights = ours(x, x, x, need_weights=need_weights)
        assert_close(out, expected)
        assert (weights is None) == (not need_weights)
    assert_close(weights, expected_weights)
    (grad_ours,) = torch.autograd.grad(ours(x, x, x)[0].square().sum(), x)
    (grad_ref,) = torch.autograd.grad(expected.square().sum(), x)
    assert_close(grad_ours, grad_ref)


def test_from_torch_cross_attention_with_padding_matches() -> None:
    reference, ours = _pair()
    query, memory = torch.randn(2, 3, 16), torch.randn(2, 8, 16)
    keep = padding_mask([8, 5])  # ours: True = may attend
    expected, expected_weights = reference(query, memory, memory, key_padding_mask=~keep[:, 0, 0],
                                           average_attn_weights=False)  # torch: True = ignore
    out, weights = ours(query, memory, memory, mask=keep, need_weights=True)
    assert_close(out, expected)
    assert_close(weights, expected_weights)
    assert_close(ours(query, memory, memory, mask=keep)[0], expected)
    assert (weights[1, :, :, 5:] == 0).all()


def test_from_torch_with_causal_and_per_head_masks_matches() -> None:
    reference, ours = _pair()
    B, A, T = 2, 4, 6
    x = torch.randn(B, T, 16)
    causal = causal_mask(T)
    assert_close(ours(x, x, x, mask=causal)[0], reference(x, x, x, attn_mask=~causal)[0])
    per_head = random_mask(B, A, T, T)
    expected = reference(x, x, x, attn_mask=~per_head.reshape(B * A, T, T))[0]  # torch: (B*A, T, T)
    assert_close(ours(x, x, x, mask=per_head)[0], expected)
    assert_close(ours(x, x, x, mask=per_head, need_weights=True)[0], expected)


def test_from_torch_refuses_what_it_cannot_copy() -> None:
    with pytest.raises(ValueError):
        MultiHeadAttention.from_torch(nn.MultiheadAttention(16, 4, kdim=8, vdim=8, batch_first=True))
    with pytest.raises(ValueError):
        MultiHeadAttention.from_torch(nn.MultiheadAttention(16, 4, add_bias_kv=True, batch_first=True))


def test_every_mask_shape_is_accepted_and_means_the_same() -> None:
    B, A, T = 2, 4, 5
    mha = MultiHeadAttention(16, A).eval()
    x = torch.randn(B, T, 16)
    base = random_mask(T, T)
    full = base.expand(B, A, T, T)
    expected = mha(x, x, x, mask=full)[0]
    for mask in (base, base.expand(B, T, T), base[None, None], base.expand(B, 1, T, T), full):
        for need_weights in (False, True):
            out, _ = mha(x, x, x, mask=mask, need_weights=need_weights)
            assert_close(out, expected, atol=1e-5, rtol=1e-5)
    lengths = [5, 3]
    pad_out, pad_weights = mha(x, x, x, mask=padding_mask(lengths), need_weights=True)
    assert (pad_weights[1, :, :, 3:] == 0).all()
    assert_close(mha(x, x, x, mask=padding_mask(lengths))[0], pad_out, atol=1e-5, rtol=1e-5)
    for wrong in (torch.ones(T, T + 1, dtype=torch.bool), torch.ones(B, 3, T, T, dtype=torch.bool),
                  torch.ones(T, dtype=torch.bool)):
        with pytest.raises(ValueError):
            mha(x, x, x, mask=wrong)


def test_causal_mask_lets_no_output_depend_on_a_later_input() -> None:
    mha = MultiHeadAttention(16, 4).eval()
    T = 7
    x = torch.randn(1, T, 16)
    for need_weights in (False, True):
        before = mha(x, x, x, mask=causal_mask(T), need_weights=need_weights)[0]
        for t in range(T):
            changed = x.clone()
            changed[0, t] += 10 * torch.randn(16)
            after = mha(changed, changed, changed, mask=causal_mask(T), need_weights=need_weights)[0]
            assert torch.equal(after[0, :t], before[0, :t]), f"an output before {t} moved"
            assert not torch.allclose(after[0, t], before[0, t]), f"output {t} ignored its own input"


def test_weights_and_fast_paths_agree_and_dropout_only_in_training() -> None:
    mha = MultiHeadAttention(16, 4, dropout=0.5)
    x = torch.randn(2, 5, 16)
    mha.eval()
    assert_close(mha(x, x, x)[0], mha(x, x, x, need_weights=True)[0], atol=1e-6, rtol=1e-5)
    assert torch.equal(mha(x, x, x)[0], mha(x, x, x)[0])
    mha.train()
    assert not torch.allclose(mha(x, x, x)[0], mha(x, x, x)[0])


@pytest.mark.parametrize("need_weights", [False, True])
def test_multi_head_gradcheck_float64(need_weights) -> None:
    mha = MultiHeadAttention(8, 2).double()
    q = torch.randn(2, 3, 8, dtype=torch.float64, requires_grad=True)
    kv = torch.randn(2, 4, 8, dtype=torch.float64, requires_grad=True)
    mask = padding_mask([4, 2])
    assert torch.autograd.gradcheck(
        lambda a, b: mha(a, b, b, mask=mask, need_weights=need_weights)[0], (q, kv))
