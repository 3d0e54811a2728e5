"""Checkers of notebook 07: right answers pass, stubs are "not answered yet", typical mistakes are named."""

from __future__ import annotations

import random

import pytest
import torch
from checker_contract import assert_measured_contract, contract_tests, expect

from course_lib.checks import positional as cp
from course_lib.text import Vocab, pad_batch
from course_lib.transformer import TransformerClassifier, TransformerConfig, offset_matrix, sinusoidal_positions

pytestmark = pytest.mark.usefixtures("one_thread")  # tiny models: one thread is fastest


def dot_at_distance(k, d):
    omega = 10000.0 ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)
    return float(torch.cos(k * omega).sum())


CASES = [(cp.check_offset_matrix, offset_matrix), (cp.check_dot_at_distance, dot_at_distance)]
(test_a_right_answer_passes_with_one_line, test_a_stub_is_not_answered_yet,
 test_an_error_is_reported_not_raised, test_a_wrong_type_is_reported_not_raised,
 test_each_call_records_one_verdict) = contract_tests(CASES)


def test_dot_at_distance_matches_the_table_and_mistakes_are_named(capsys):
    pe = sinusoidal_positions(50, 16).double()
    assert abs(dot_at_distance(3, 16) - float(pe[7] @ pe[10])) < 1e-5
    expect(cp.check_dot_at_distance, lambda k, d: d / 2, "d/2", capsys)
    expect(cp.check_dot_at_distance, lambda k, d: dot_at_distance(k, d) + 1, "cos(kω)", capsys)


WORDS = "the cow sees a farmer and sleeps big dog".split()


def order_models_and_data(longest: int = 4):
    """Three tiny untrained order classifiers, their collate, and paired sequences longer than ``longest``."""
    vocab = Vocab.build([WORDS])

    def collate(examples):
        ids, mask = pad_batch([vocab.encode(tokens) for tokens, _ in examples], vocab.pad_id)
        return {"input_ids": ids, "attention_mask": mask, "labels": torch.tensor([y for _, y in examples])}

    models = {}
    for kind in ("none", "sinusoidal", "learned"):
        torch.manual_seed(0)
        config = TransformerConfig(vocab_size=len(vocab), d_model=16, num_heads=2, d_ff=32, num_encoder_layers=1,
                                   dropout=0.0, max_len=12, positions=kind)
        models[kind] = TransformerClassifier(config, num_classes=2).eval()
        with torch.no_grad():  # untrained, but with a say for the positions: the kinds must score apart
            models[kind].classifier.bias.zero_()
            if kind == "learned":
                models[kind].positions.weight.mul_(50)
    rng, examples = random.Random(0), []
    for _ in range(40):
        tokens = [rng.choice(WORDS) for _ in range(rng.randint(longest + 1, 12))]
        shuffled = tokens[::-1]
        examples += [(tokens, 1), (shuffled, 0)]
    return models, collate, examples, longest


def test_the_long_input_accuracy_passes_and_keeps_the_contract(capsys):
    models, collate, examples, longest = order_models_and_data()
    accuracy = cp.long_accuracies(models, collate, examples)
    assert accuracy["none"] == 0.5 and len(set(accuracy.values())) > 1
    assert_measured_contract(cp.check_long_inputs, accuracy["learned"], (models, collate, examples, longest), capsys)


def test_long_inputs_mistakes(capsys):
    models, collate, examples, longest = order_models_and_data()
    accuracy = cp.long_accuracies(models, collate, examples)
    context = (models, collate, examples, longest)
    if abs(accuracy["sinusoidal"] - accuracy["learned"]) > 1e-3:
        expect(cp.check_long_inputs, accuracy["sinusoidal"], "positions = 'sinusoidal'", capsys, *context)
    if abs(accuracy["learned"] - 0.5) > 1e-3:
        expect(cp.check_long_inputs, 0.5, "positions = 'none'", capsys, *context)
    expect(cp.check_long_inputs, 2.0, "not 2.000", capsys, *context)
    short = [(t[:3], y) for t, y in examples]
    expect(cp.check_long_inputs, 0.5, "longer than the longest", capsys, models, collate, short, longest)
    expect(cp.check_long_inputs, 0.5, "at most 12", capsys, models, collate, [(t * 3, y) for t, y in examples],
           longest)
    expect(cp.check_long_inputs, 0.5, "paired=True", capsys, models, collate, [e for e in examples if e[1]] * 2,
           longest)
    expect(cp.check_long_inputs, 0.5, "build `long_test`", capsys, models, collate, ..., longest)
