"""Checkers of notebook 10: right answers pass, stubs are "not answered yet", wrong answers are named."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pytest
import torch
from checker_contract import assert_measured_contract, contract_tests, expect

from course_lib.bert import BertConfig, BertForQuestionAnswering
from course_lib.checks import fine_tuning as cf

pytestmark = pytest.mark.usefixtures("one_thread")  # tiny models: one thread is fastest

# ------------------------------------------------------------------ right answers (the notebook's solutions)

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
    (cf.check_span_f1, span_f1),
    (cf.check_first_piece_labels, first_piece_labels),
    (cf.check_feature_parameters, feature_parameters),
]
(test_a_right_answer_passes_with_one_line, test_a_stub_is_not_answered_yet,
 test_an_error_is_reported_not_raised, test_a_wrong_type_is_reported_not_raised,
 test_each_call_records_one_verdict) = contract_tests(CASES)


# ------------------------------------------------------------------ typical mistakes get a specific message


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


@dataclass
class Question:
    """What ``check_forced_answers`` reads of notebook 10's QA examples."""

    context: list[str]
    answer: list[str]
    span: tuple[int, int] | None


def tiny_qa():
    """A tiny untrained QA model, its test batches (pieces = words) and questions: notebook 10's objects, smaller."""
    torch.manual_seed(0)
    model = BertForQuestionAnswering(BertConfig(vocab_size=30, hidden_size=16, num_hidden_layers=1,
                                                num_attention_heads=2, intermediate_size=32,
                                                max_position_embeddings=16)).eval()
    g = torch.Generator().manual_seed(1)
    batches, questions = [], []
    for _ in range(2):
        ids = torch.randint(5, 30, (20, 12), generator=g)  # [CLS] 3 question pieces [SEP] 7 context pieces [SEP]
        word_index = [[-1] * 5 + list(range(7)) for _ in range(20)]
        batches.append({"input_ids": ids, "token_type_ids": torch.zeros_like(ids), "attention_mask": torch.ones_like(ids),
                        "word_index": word_index})
        for row in range(20):
            context = [f"w{i}" for i in ids[row, 5:].tolist()]
            s = int(torch.randint(7, (1,), generator=g))
            answerable = row % 3 != 0
            questions.append(Question(context, context[s:s + 2] if answerable else [], (s, s + 1) if answerable else None))
    return model, batches, questions


def test_forced_answers_pass_keep_the_contract_and_a_free_model_scores_otherwise(capsys):
    model, batches, questions = tiny_qa()
    forced = cf.forced_exact_match(model, batches, questions)
    assert forced["unanswerable"] == 0.0  # forced to answer, no unanswerable question can be right
    assert_measured_contract(cf.check_forced_answers, forced["exact_match"], (model, batches, questions), capsys)
    with pytest.raises(ValueError, match="40 questions but 39"):
        cf.forced_exact_match(model, batches, questions[:-1])


def test_forced_answers_mistakes(capsys):
    model, batches, questions = tiny_qa()
    forced = cf.forced_exact_match(model, batches, questions)
    free = cf.evaluate_qa(model, batches, questions)["exact_match"]
    context = (model, batches, questions)
    if abs(free - forced["exact_match"]) > 1e-3:
        expect(cf.check_forced_answers, free, "allowed", capsys, *context)
    if abs(forced["answerable"] - forced["exact_match"]) > 1e-3:
        expect(cf.check_forced_answers, forced["answerable"], "answerable questions only", capsys, *context)
    expect(cf.check_forced_answers, 0.99, "not 0.990", capsys, *context)
    expect(cf.check_forced_answers, 0.5, "QA model", capsys, torch.nn.Linear(2, 2), batches, questions)
