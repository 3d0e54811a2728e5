"""Checkers of notebooks 05 and 06: right answers pass, stubs are "not answered yet", wrong answers are named."""

from __future__ import annotations

import math

import pytest
import torch
from checker_contract import assert_measured_contract, contract_tests, expect

from course_lib.attention import SelfAttentionTagger
from course_lib.checks import attention as ca
from course_lib.checks import multi_head as cm

pytestmark = pytest.mark.usefixtures("one_thread")  # tiny models: one thread is fastest

# ------------------------------------------------------------------ right answers (notebook solutions)

def masked_softmax(scores, mask):
    return scores.masked_fill(~mask, float("-inf")).softmax(dim=-1)


def attention_pool(x, w, attention_mask):
    weights = masked_softmax(x @ w, attention_mask.bool())
    return (weights[:, :, None] * x).sum(dim=1), weights


def head_output(x, mha, a):
    D = x.shape[-1] // mha.num_heads
    rows = slice(a * D, (a + 1) * D)
    q, k, v = (x @ p.weight[rows].T + p.bias[rows] for p in (mha.query, mha.key, mha.value))
    return (q @ k.transpose(-2, -1) / math.sqrt(D)).softmax(dim=-1) @ v


def mqa_parameters(H, A):
    return 2 * (H * H + H) + 2 * (H * (H // A) + H // A)


CASES = [
    (ca.check_masked_softmax, masked_softmax),
    (ca.check_attention_pool, attention_pool),
    (cm.check_head_output, head_output),
    (cm.check_mqa_parameters, mqa_parameters),
]
(test_a_right_answer_passes_with_one_line, test_a_stub_is_not_answered_yet,
 test_an_error_is_reported_not_raised, test_a_wrong_type_is_reported_not_raised,
 test_each_call_records_one_verdict) = contract_tests(CASES)


# ------------------------------------------------------------------ typical mistakes get a specific message


def test_masked_softmax_mistakes(capsys) -> None:
    expect(ca.check_masked_softmax, lambda s, m: masked_softmax(s, ~m), "wrong way round", capsys)
    expect(ca.check_masked_softmax, lambda s, m: s.softmax(-1) * m, "exactly 0", capsys)
    expect(ca.check_masked_softmax, lambda s, m: s.softmax(-1), "exactly 0", capsys)


def test_attention_pool_mistakes(capsys) -> None:
    expect(ca.check_attention_pool, lambda x, w, m: ((x @ w).softmax(-1)[:, :, None].mul(x).sum(1),
                                                      (x @ w).softmax(-1)), "padding", capsys)
    expect(ca.check_attention_pool, lambda x, w, m: (x.mean(1), attention_pool(x, w, m)[1]), "Σ_t", capsys)


def test_the_stalled_share_passes_keeps_the_contract_and_tolerates_another_draw(capsys):
    right = ca.stalled_share(512, scale=False, seed=0)
    assert 0.5 < right < 0.9 and ca.stalled_share(512, scale=True, seed=0) == 0.0
    assert_measured_contract(ca.check_unscaled_gradients, right, (0,), capsys)
    assert ca.check_unscaled_gradients(ca.stalled_share(512, scale=False, seed=1), 0) is True  # another draw
    capsys.readouterr()


def test_stalled_share_mistakes(capsys):
    expect(ca.check_unscaled_gradients, 0.0, "that is with the √d", capsys, 0)
    expect(ca.check_unscaled_gradients, ca.stalled_share(32, scale=False, seed=0), "d = 32", capsys, 0)
    expect(ca.check_unscaled_gradients, 1.5, "between 0 and 1", capsys, 0)
    expect(ca.check_unscaled_gradients, 0.3, "about", capsys, 0)
    expect(ca.check_unscaled_gradients, 0.7, "`seed`", capsys, "0")


def test_head_output_and_mqa_mistakes(capsys):
    def by_root_h(x, mha, a):
        D = x.shape[-1] // mha.num_heads
        rows = slice(a * D, (a + 1) * D)
        q, k, v = (x @ p.weight[rows].T + p.bias[rows] for p in (mha.query, mha.key, mha.value))
        return (q @ k.transpose(-2, -1) / math.sqrt(x.shape[-1])).softmax(dim=-1) @ v

    expect(cm.check_head_output, by_root_h, "not by √H", capsys)
    expect(cm.check_head_output, lambda x, mha, a: head_output(x, mha, (a + 1) % mha.num_heads), "rows", capsys)
    expect(cm.check_head_output, lambda x, mha, a: mha(x, x, x)[0], "(B, T, D)", capsys)
    expect(cm.check_mqa_parameters, lambda H, A: 4 * H * H + 4 * H, "ordinary multi-head", capsys)
    expect(cm.check_mqa_parameters, lambda H, A: 2 * H * H + 2 * H * (H // A), "add the biases", capsys)
    expect(cm.check_mqa_parameters, lambda H, A: float(mqa_parameters(H, A)), "an int", capsys)


def tiny_tagger():
    """A small untrained tagger and a batch with polysemous words: notebook 06's objects, smaller."""
    torch.manual_seed(0)
    model = SelfAttentionTagger(vocab_size=30, num_labels=5, d_model=16, num_heads=4, num_layers=2).eval()
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(1, 30, (40, 7), generator=g)
    mask = torch.ones_like(ids)
    mask[::3, 5:] = 0
    ids[mask == 0] = 0
    labels = torch.randint(0, 5, (40, 7), generator=g).masked_fill(mask == 0, -100)
    return model, {"input_ids": ids, "attention_mask": mask, "labels": labels}


def test_the_head_ablation_passes_and_keeps_the_contract(capsys):
    model, batch = tiny_tagger()
    per_head = [cm.ablated_sense_accuracy(model, batch, 0, h) for h in range(4)]
    full = cm.ablated_sense_accuracy(model, batch, 0, None)
    assert len(set(per_head)) > 1 and min(per_head) < full, "silencing a head must change the tags"
    assert_measured_contract(cm.check_head_ablation, min(per_head), (model, batch), capsys)


def test_head_ablation_mistakes(capsys):
    model, batch = tiny_tagger()
    per_head = [cm.ablated_sense_accuracy(model, batch, 0, h) for h in range(4)]
    layer1 = [cm.ablated_sense_accuracy(model, batch, 1, h) for h in range(4)]
    expect(cm.check_head_ablation, cm.ablated_sense_accuracy(model, batch, 0, None), "with every head", capsys,
           model, batch)
    expect(cm.check_head_ablation, max(per_head), "another one costs more", capsys, model, batch)
    odd = next(a for a in layer1 if all(abs(a - b) > 1e-3 for b in per_head))
    expect(cm.check_head_ablation, odd, "layer 1", capsys, model, batch)
    expect(cm.check_head_ablation, 2.0, "none of the accuracies", capsys, model, batch)


def test_the_hook_leaves_the_model_as_it_was():
    model, batch = tiny_tagger()
    before = cm.ablated_sense_accuracy(model, batch, 0, None)
    cm.ablated_sense_accuracy(model, batch, 0, 2)
    assert not model.layers[0].out._forward_pre_hooks and cm.ablated_sense_accuracy(model, batch, 0, None) == before
