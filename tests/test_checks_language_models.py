"""Checkers of notebook 02: right answers pass, stubs are "not answered yet", typical mistakes are named."""

from __future__ import annotations

from collections import Counter

import pytest
import torch
from checker_contract import assert_measured_contract, contract_tests, expect

from course_lib.checks import language_models as cl
from course_lib.text import Vocab

pytestmark = pytest.mark.usefixtures("one_thread")  # tiny models: one thread is fastest


def lstm_parameters(input_size, hidden_size, num_layers):
    H = hidden_size
    return 4 * H * (input_size + H) + 8 * H + (num_layers - 1) * (8 * H * H + 8 * H)


def add_k(counts, k):
    return (counts + k) / (counts.sum(dim=1, keepdim=True) + k * counts.shape[1])


CASES = [(cl.check_lstm_parameters, lstm_parameters), (cl.check_add_k, add_k)]
(test_a_right_answer_passes_with_one_line, test_a_stub_is_not_answered_yet,
 test_an_error_is_reported_not_raised, test_a_wrong_type_is_reported_not_raised,
 test_each_call_records_one_verdict) = contract_tests(CASES)


def bigram_data():
    """A small corpus's training bigrams, test bigrams and vocabulary: the notebook's objects, smaller."""
    train = [s.split() for s in ("the cow eats hay", "the cow sleeps", "a farmer feeds the cow", "the pig eats")]
    test = [s.split() for s in ("the pig sleeps", "a cow eats hay")]
    vocab = Vocab.build([["<bos>", "<eos>"], *train, *test])
    pairs = Counter(p for s in train for p in zip(["<bos>", *s], [*s, "<eos>"], strict=True))
    test_pairs = [p for s in test for p in zip(["<bos>", *s], [*s, "<eos>"], strict=True)]
    return pairs, test_pairs, vocab


def test_the_best_add_k_passes_and_keeps_the_contract(capsys):
    pairs, test_pairs, vocab = bigram_data()
    table = {k: cl.add_k_perplexity(pairs, test_pairs, vocab.itos, k) for k in cl.ADD_K_VALUES}
    best = min(table.values())
    assert_measured_contract(cl.check_best_add_k, best, (pairs, test_pairs, vocab), capsys)
    # the helper agrees with the notebook's recipe: the learner's add_k on a count matrix
    index = {w: i for i, w in enumerate(vocab.itos)}
    counts = torch.zeros(len(vocab.itos), len(vocab.itos), dtype=torch.float64)
    for (a, b), c in pairs.items():
        counts[index[a], index[b]] = c
    rows, cols = (torch.tensor([index[p[j]] for p in test_pairs]) for j in (0, 1))
    assert abs(torch.exp(-add_k(counts, 0.1)[rows, cols].log().mean()).item() - table[0.1]) < 1e-9


def test_best_add_k_mistakes(capsys):
    pairs, test_pairs, vocab = bigram_data()
    table = {k: cl.add_k_perplexity(pairs, test_pairs, vocab.itos, k) for k in cl.ADD_K_VALUES}
    worst = max(table, key=table.get)
    expect(cl.check_best_add_k, table[worst], "another k does better", capsys, pairs, test_pairs, vocab)
    expect(cl.check_best_add_k, 0.1, "you gave k = 0.1", capsys, pairs, test_pairs, vocab)
    expect(cl.check_best_add_k, min(table.values()) * 0.9, "none of the four k", capsys, pairs, test_pairs, vocab)


def test_lstm_and_add_k_mistakes(capsys):
    expect(cl.check_lstm_parameters, lambda i, h, n: n * (4 * h * (i + h) + 8 * h), "layers above the first", capsys)
    expect(cl.check_add_k, lambda c, k: (c + k) / c.sum(1, keepdim=True).clamp_min(1), "sum to 1", capsys)
