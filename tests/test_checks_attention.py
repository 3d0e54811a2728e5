"""Checkers of notebooks 05 and 06: right answers pass, stubs are "not answered yet", wrong answers are named."""

from __future__ import annotations

import math

import torch
from checker_contract import contract_tests, expect

from course_lib.attention import MultiHeadAttention
from course_lib.checks import attention as ca
from course_lib.checks import multi_head as cm

# ------------------------------------------------------------------ right answers (notebook solutions)

def soft_lookup(query, keys, values):
    weights = torch.softmax(keys @ query / math.sqrt(query.shape[-1]), dim=-1)
    return weights @ values, weights


def masked_softmax(scores, mask):
    return scores.masked_fill(~mask, float("-inf")).softmax(dim=-1)


def attention_pool(x, w, attention_mask):
    weights = masked_softmax(x @ w, attention_mask.bool())
    return (weights[:, :, None] * x).sum(dim=1), weights


def entropy(p):
    return -torch.xlogy(p, p).sum(-1)


def split_heads(x, num_heads):
    B, T, H = x.shape
    return x.view(B, T, num_heads, H // num_heads).transpose(1, 2)


def merge_heads(y):
    B, A, T, D = y.shape
    return y.transpose(1, 2).reshape(B, T, A * D)


def parameter_count(H, bias):
    return 4 * H * H + (4 * H if bias else 0)


def self_attention(x, mha):
    q, k, v = (split_heads(p(x), mha.num_heads) for p in (mha.query, mha.key, mha.value))
    weights = (q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])).softmax(-1)
    return mha.out(merge_heads(weights @ v))


CASES = [
    (ca.check_soft_lookup, soft_lookup),
    (ca.check_masked_softmax, masked_softmax),
    (ca.check_attention_pool, attention_pool),
    (ca.check_entropy, entropy),
    (cm.check_split_heads, split_heads),
    (cm.check_merge_heads, merge_heads),
    (cm.check_parameter_count, parameter_count),
    (cm.check_self_attention, self_attention),
]
(test_a_right_answer_passes_with_one_line, test_a_stub_is_not_answered_yet,
 test_an_error_is_reported_not_raised, test_a_wrong_type_is_reported_not_raised,
 test_each_call_records_one_verdict) = contract_tests(CASES)


# ------------------------------------------------------------------ typical mistakes get a specific message


def test_soft_lookup_mistakes(capsys) -> None:
    expect(ca.check_soft_lookup, lambda q, k, v: (torch.softmax(k @ q, -1) @ v, torch.softmax(k @ q, -1)),
           "without scaling", capsys)
    expect(ca.check_soft_lookup, lambda q, k, v: (soft_lookup(q, k, v)[1].sum() * v[0], soft_lookup(q, k, v)[1]),
           "weighted average", capsys)
    expect(ca.check_soft_lookup, lambda q, k, v: soft_lookup(q, k, v)[0], "pair", capsys)


def test_masked_softmax_mistakes(capsys) -> None:
    expect(ca.check_masked_softmax, lambda s, m: masked_softmax(s, ~m), "wrong way round", capsys)
    expect(ca.check_masked_softmax, lambda s, m: s.softmax(-1) * m, "exactly 0", capsys)
    expect(ca.check_masked_softmax, lambda s, m: s.softmax(-1), "exactly 0", capsys)


def test_attention_pool_mistakes(capsys) -> None:
    expect(ca.check_attention_pool, lambda x, w, m: ((x @ w).softmax(-1)[:, :, None].mul(x).sum(1),
                                                      (x @ w).softmax(-1)), "padding", capsys)
    expect(ca.check_attention_pool, lambda x, w, m: (x.mean(1), attention_pool(x, w, m)[1]), "Σ_t", capsys)


def test_entropy_mistakes(capsys) -> None:
    expect(ca.check_entropy, lambda p: -(p * p.log()).sum(-1), "NaN", capsys)
    expect(ca.check_entropy, lambda p: entropy(p) / math.log(2), "bits", capsys)
    expect(ca.check_entropy, lambda p: -entropy(p), "sign", capsys)


def test_multi_head_mistakes(capsys) -> None:
    expect(cm.check_split_heads, lambda x, a: x.view(x.shape[0], a, x.shape[1], x.shape[2] // a),
           "mixes tokens", capsys)
    expect(cm.check_split_heads, lambda x, a: x.view(x.shape[0], x.shape[1], a, -1), "expected shape", capsys)
    expect(cm.check_merge_heads, lambda y: y.reshape(y.shape[0], y.shape[2], -1), "transpose(1, 2)", capsys)
    expect(cm.check_parameter_count, lambda H, bias: 3 * H * H + (3 * H if bias else 0), "W_O", capsys)
    expect(cm.check_parameter_count, lambda H, bias: 4 * H * H, "+4H", capsys)

    def one_head(x, mha):
        q, k, v = mha.query(x), mha.key(x), mha.value(x)
        return mha.out((q @ k.transpose(-2, -1) / math.sqrt(x.shape[-1])).softmax(-1) @ v)

    expect(cm.check_self_attention, one_head, "one head", capsys)
    expect(cm.check_self_attention, lambda x, mha: mha.out(x), "wrong values", capsys)


def test_check_self_attention_accepts_the_module_itself(capsys) -> None:
    assert cm.check_self_attention(lambda x, mha: mha(x, x, x)[0]) is True
    assert isinstance(MultiHeadAttention(8, 2), torch.nn.Module)
