"""Checkers of notebook 09: right answers pass, stubs are "not answered yet", typical mistakes are named."""

from __future__ import annotations

import pytest
import torch
from checker_contract import assert_measured_contract, contract_tests, expect

from course_lib.bert import BertConfig, BertForPreTraining, mask_tokens
from course_lib.checks import bert as cb

pytestmark = pytest.mark.usefixtures("one_thread")  # tiny models: one thread is fastest


def my_mask_tokens(input_ids, tokenizer, generator):
    return mask_tokens(input_ids, tokenizer, generator=generator)


def count_parameters(config):
    V, H, L, ff = config.vocab_size, config.hidden_size, config.num_hidden_layers, config.intermediate_size
    embeddings = (V + config.max_position_embeddings + config.type_vocab_size) * H + 2 * H
    layer = 4 * (H * H + H) + (H * ff + ff) + (ff * H + H) + 4 * H
    return embeddings + L * layer + H * H + H


def nsp_ceiling_uniform(K):
    return 0.5 + 0.5 * (1 - 1 / K)


CASES = [(cb.check_mask_tokens, my_mask_tokens), (cb.check_parameter_count, count_parameters),
         (cb.check_nsp_ceiling, nsp_ceiling_uniform)]
(test_a_right_answer_passes_with_one_line, test_a_stub_is_not_answered_yet,
 test_an_error_is_reported_not_raised, test_a_wrong_type_is_reported_not_raised,
 test_each_call_records_one_verdict) = contract_tests(CASES)


def tiny_bert_and_batches():
    """A tiny untrained BERT, its tokenizer and masked batches: notebook 09's objects, smaller."""
    tokenizer = cb._tokenizer()
    torch.manual_seed(0)
    model = BertForPreTraining(BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=16, num_hidden_layers=1,
                                          num_attention_heads=2, intermediate_size=32, max_position_embeddings=16)).eval()
    g = torch.Generator().manual_seed(1)
    batches = []
    for _ in range(2):
        ids = torch.randint(5, tokenizer.vocab_size, (40, 12), generator=g)
        ids[:, 0], ids[:, -1] = tokenizer.cls_token_id, tokenizer.sep_token_id
        mask = torch.ones_like(ids)
        inputs, labels = mask_tokens(ids, tokenizer, generator=g)
        batches.append({"input_ids": inputs, "token_type_ids": torch.zeros_like(ids), "attention_mask": mask,
                        "labels": labels})
    return model, batches, tokenizer


def test_the_visible_accuracy_passes_and_keeps_the_contract(capsys):
    model, batches, tokenizer = tiny_bert_and_batches()
    visible = cb.selected_accuracy(model, batches, lambda original, selected: original)
    masked = cb.selected_accuracy(model, batches, lambda original, selected: torch.full_like(original, 4))
    assert tokenizer.mask_token_id == 4 and visible != masked
    assert_measured_contract(cb.check_visible_accuracy, visible, (model, batches, tokenizer), capsys)


def test_visible_accuracy_mistakes(capsys):
    model, batches, tokenizer = tiny_bert_and_batches()
    visible = cb.selected_accuracy(model, batches, lambda original, selected: original)
    masked = cb.selected_accuracy(model, batches, lambda o, s: torch.full_like(o, tokenizer.mask_token_id))
    g = torch.Generator().manual_seed(5)
    randomized = cb.selected_accuracy(model, batches, lambda o, s: torch.randint(5, tokenizer.vocab_size, o.shape,
                                                                                generator=g))
    context = (model, batches, tokenizer)
    expect(cb.check_visible_accuracy, masked, "accuracy at [MASK]", capsys, *context)
    assert max(visible, masked, randomized) < 0.5  # untrained: far from the wrong answer 0.9 below
    if abs(visible - randomized) > 0.03 and abs(masked - randomized) > 1e-3:
        expect(cb.check_visible_accuracy, randomized, "random words", capsys, *context)
    expect(cb.check_visible_accuracy, 0.9, "selected positions only", capsys, *context)
    expect(cb.check_visible_accuracy, visible, "pass the notebook's `model`", capsys, model, batches,
           tokenizer.mask_token_id)


def test_other_mistakes_are_named(capsys):
    expect(cb.check_nsp_ceiling, lambda K: 1 - 1 / K, "IsNext pairs are always right", capsys)
    expect(cb.check_parameter_count, lambda c: count_parameters(c) - c.hidden_size ** 2 - c.hidden_size, "pooler",
           capsys)
