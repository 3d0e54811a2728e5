"""Checkers of notebook 11: right answers pass, stubs are "not answered yet", typical mistakes are named."""

from __future__ import annotations

import pytest
import torch
from checker_contract import assert_measured_contract, contract_tests, expect

from course_lib.bert import BertConfig, BertModel
from course_lib.checks import inside as ci
from course_lib.data.tasks import SenseExample
from course_lib.text import WordPieceTokenizer
from course_lib.text.vocab import BERT_SPECIAL_TOKENS

pytestmark = pytest.mark.usefixtures("one_thread")  # tiny models: one thread is fastest

# ------------------------------------------------------------------ right answers (the notebook's solutions)


def previous_token_mass(attention):
    return attention.diagonal(offset=-1, dim1=-2, dim2=-1).mean(-1)


def uniform_baseline(lengths):
    return sum(1 / T for T in lengths) / len(lengths)


CASES = [
    (ci.check_previous_token_mass, previous_token_mass),
    (ci.check_uniform_baseline, uniform_baseline),
]
(test_a_right_answer_passes_with_one_line, test_a_stub_is_not_answered_yet,
 test_an_error_is_reported_not_raised, test_a_wrong_type_is_reported_not_raised,
 test_each_call_records_one_verdict) = contract_tests(CASES)


# ------------------------------------------------------------------ typical mistakes get a specific message



def test_next_token_instead_of_previous_is_named(capsys) -> None:
    expect(ci.check_previous_token_mass, lambda a: a.diagonal(offset=1, dim1=-2, dim2=-1).mean(-1),
           "*next* token", capsys)


def test_dividing_by_all_queries_is_named(capsys) -> None:
    expect(ci.check_previous_token_mass, lambda a: a.diagonal(offset=-1, dim1=-2, dim2=-1).sum(-1) / a.shape[-1],
           "T-1 queries", capsys)


def test_one_over_the_mean_length_is_named(capsys) -> None:
    expect(ci.check_uniform_baseline, lambda lengths: len(lengths) / sum(lengths), "not 1 over the average", capsys)


def position_head_bert():
    """A tiny BERT whose one head reads the previous token through its position embeddings alone, its
    tokenizer and sense examples: notebook 11's objects, smaller."""
    words = [f"w{i}" for i in range(20)]
    tokenizer = WordPieceTokenizer(list(BERT_SPECIAL_TOKENS) + words)
    torch.manual_seed(0)
    H, T = 16, 16
    bert = BertModel(BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=H, num_hidden_layers=1,
                                num_attention_heads=2, intermediate_size=32, max_position_embeddings=T)).eval()
    with torch.no_grad():  # head 0: query = position t, key = position t + 1, so position t + 1 looks at t
        emb = bert.embeddings
        emb.word_embeddings.weight.mul_(0.01)
        emb.token_type_embeddings.weight.zero_()
        emb.position_embeddings.weight.copy_(torch.eye(T, H) * 4)
        emb.LayerNorm.weight.fill_(1.0)
        emb.LayerNorm.bias.zero_()
        sa = bert.encoder.layer[0].attention.self
        for weight in (sa.query.weight, sa.key.weight, sa.query.bias, sa.key.bias):
            weight.zero_()
        sa.query.weight[:8] = torch.eye(T, H)[1:9] * 8  # head 0 (features 0-7): the query of position t+1 ...
        sa.key.weight[:8] = torch.eye(T, H)[:8] * 8  # ... matches the key of position t
    g = torch.Generator().manual_seed(1)
    examples = []
    for _ in range(30):
        n = int(torch.randint(4, 8, (1,), generator=g))
        tokens = [words[i] for i in torch.randint(20, (n,), generator=g).tolist()]
        examples.append(SenseExample(tokens, 1, tokens[1], "a", 0, "right", 2, 1, 0))
    return bert, tokenizer, examples


def test_a_position_head_without_positions_passes_and_keeps_the_contract(capsys):
    bert, tokenizer, examples = position_head_bert()
    (layer, head), before, after, uniform = ci.previous_token_without_positions(bert, tokenizer, examples)
    assert before > 2 * uniform and abs(after - uniform) < 0.05, (before, after, uniform)  # the head needs positions
    assert bert.embeddings.position_embeddings.weight.abs().sum() > 0  # measured on a copy
    assert_measured_contract(ci.check_positions_removed, after, (bert, tokenizer, examples), capsys)


def test_positions_removed_mistakes(capsys):
    bert, tokenizer, examples = position_head_bert()
    _, before, after, _ = ci.previous_token_without_positions(bert, tokenizer, examples)
    context = (bert, tokenizer, examples)
    expect(ci.check_positions_removed, before, "with its positions", capsys, *context)
    expect(ci.check_positions_removed, after + 0.3, "head_statistics(copy", capsys, *context)
    expect(ci.check_positions_removed, after, "pass the notebook's `bert`", capsys, bert.encoder, tokenizer, examples)
