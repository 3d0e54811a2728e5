"""Checkers of notebook 10: right answers pass, stubs are "not answered yet", wrong answers are named."""

from __future__ import annotations

from collections import Counter

import torch
from checker_contract import contract_tests, expect

from course_lib.checks import fine_tuning as cf

# ------------------------------------------------------------------ right answers (the notebook's solutions)

def best_span(start, end, max_answer_length):
    best, best_score = None, start[0] + end[0]
    for s in range(1, len(start)):
        for e in range(s, min(s + max_answer_length, len(end))):
            if start[s] + end[e] > best_score:
                best, best_score = (s, e), start[s] + end[e]
    return best


def span_f1(predicted, gold):
    if not predicted or not gold:
        return float(predicted == gold)
    common = sum((Counter(predicted) & Counter(gold)).values())
    if common == 0:
        return 0.0
    p, r = common / len(predicted), common / len(gold)
    return 2 * p * r / (p + r)


def first_piece_labels(word_starts, labels, length):
    out = [-100] * length
    for s, y in zip(word_starts, labels, strict=True):
        out[1 + s] = y
    return out


def feature_parameters(H, L, K):
    return (L + 1) + 1 + H * K + K


CASES = [
    (cf.check_best_span, best_span),
    (cf.check_span_f1, span_f1),
    (cf.check_first_piece_labels, first_piece_labels),
    (cf.check_feature_parameters, feature_parameters),
]
(test_a_right_answer_passes_with_one_line, test_a_stub_is_not_answered_yet,
 test_an_error_is_reported_not_raised, test_a_wrong_type_is_reported_not_raised,
 test_each_call_records_one_verdict) = contract_tests(CASES)


# ------------------------------------------------------------------ typical mistakes get a specific message


def test_best_span_mistakes(capsys) -> None:
    def any_order(start, end, max_answer_length):  # forgets s <= e
        T = len(start)
        pairs = [(s, e) for s in range(1, T) for e in range(1, T) if abs(e - s) < max_answer_length]
        s, e = max(pairs, key=lambda p: start[p[0]] + end[p[1]])
        return (s, e) if start[s] + end[e] > start[0] + end[0] else None

    def never_none(start, end, max_answer_length):
        T = len(start)
        pairs = [(s, e) for s in range(1, T) for e in range(s, min(s + max_answer_length, T))]
        return max(pairs, key=lambda p: start[p[0]] + end[p[1]])

    def no_length_limit(start, end, max_answer_length):
        return best_span(start, end, len(start))

    expect(cf.check_best_span, any_order, "starts after it ends", capsys)
    expect(cf.check_best_span, never_none, "None", capsys)
    expect(cf.check_best_span, no_length_limit, "max_answer_length", capsys)


def test_span_f1_mistakes(capsys) -> None:
    expect(cf.check_span_f1, lambda p, g: float(p == g) if not p or not g else span_f1(p, g) * 0, "precision", capsys)
    expect(cf.check_span_f1, lambda p, g: 0.0 if not p or not g else span_f1(p, g), "two empty answers", capsys)
    expect(cf.check_span_f1, lambda p, g: float(p == g) if not p or not g else span_f1(sorted(set(p)), sorted(set(g))),
           "multiplicity", capsys)


def test_first_piece_labels_mistakes(capsys) -> None:
    def no_cls(starts, labels, length):
        out = [-100] * length
        for s, y in zip(starts, labels, strict=True):
            out[s] = y
        return out

    expect(cf.check_first_piece_labels, no_cls, "1 + word_starts", capsys)
    expect(cf.check_first_piece_labels, lambda s, y, n: [0] * n, "expected", capsys)


def test_feature_parameters_mistakes(capsys) -> None:
    expect(cf.check_feature_parameters, lambda H, L, K: H * K + K, "the mix learns too", capsys)
    expect(cf.check_feature_parameters, lambda H, L, K: L + 1 + H * K + K, "L + 1 layers", capsys)
    expect(cf.check_feature_parameters, lambda H, L, K: L + 2 + H * K, "bias", capsys)


def test_the_feature_count_is_the_model_s_own() -> None:
    from course_lib.bert import BertConfig, BertForSequenceClassification, BertModel

    config = BertConfig(vocab_size=30, hidden_size=16, num_hidden_layers=3, num_attention_heads=4,
                        intermediate_size=32, max_position_embeddings=16)
    model = BertForSequenceClassification.from_encoder(BertModel(config), 5, freeze_encoder=True, mix_layers=True)
    assert model.num_parameters(trainable_only=True) == feature_parameters(16, 3, 5)
    assert torch.is_tensor(model.mix.weights())
