"""Checkers of notebook 01: right answers pass, stubs are "not answered yet", typical mistakes are named."""

from __future__ import annotations

import pytest
import torch
from checker_contract import assert_measured_contract, contract_tests, expect

from course_lib.checks import word_vectors as cw
from course_lib.data import toy_world, toyworld_corpus
from course_lib.wordvec import cooccurrence_counts

pytestmark = pytest.mark.usefixtures("one_thread")  # tiny models: one thread is fastest


def analogy(wv, a, b, c):
    unit = wv.vectors / wv.vectors.norm(dim=1, keepdim=True)
    i = {w: k for k, w in enumerate(wv.words)}
    scores = unit @ (unit[i[b]] - unit[i[a]] + unit[i[c]])
    scores[[i[a], i[b], i[c]]] = -float("inf")
    return wv.words[int(scores.argmax())]


def noise_distribution(counts, exponent):
    weights = counts ** exponent
    return weights / weights.sum()


CASES = [(cw.check_analogy, analogy), (cw.check_noise_distribution, noise_distribution)]
(test_a_right_answer_passes_with_one_line, test_a_stub_is_not_answered_yet,
 test_an_error_is_reported_not_raised, test_a_wrong_type_is_reported_not_raised,
 test_each_call_records_one_verdict) = contract_tests(CASES)


@pytest.fixture(scope="module")
def small_world():
    """Co-occurrence counts of a small toy-world corpus and its word classes: the notebook's objects, smaller."""
    world = toy_world()
    counts, words = cooccurrence_counts([s.tokens for s in toyworld_corpus("train", seed=0, num_documents=300)],
                                        window=2)
    names = {w: world.grammar.categories[c].name for w, c in zip(world.vocabulary, world.grammar.word_category, strict=True)}
    return counts, words, {w: names[w] for w in words}


def test_the_measured_precision_passes_and_keeps_the_contract(small_world, capsys):
    counts, words, word_class = small_world
    right = cw.ppmi_precision(counts, words, word_class)[0]
    assert_measured_contract(cw.check_ppmi_dimensions, right, (counts, words, word_class), capsys)
    assert cw.check_ppmi_dimensions(round(right, 3), counts, words, word_class) is True
    assert cw.check_ppmi_dimensions(torch.tensor(right), counts, words, word_class) is True


def test_ppmi_dimensions_mistakes(small_world, capsys):
    counts, words, word_class = small_world
    right, at_30 = cw.ppmi_precision(counts, words, word_class, (60, 30))
    unsmoothed = cw.ppmi_precision(counts, words, word_class, alpha=1.0)[0]
    assert at_30 == cw.category_precision(cw.WordVectors(words, cw.svd_vectors(cw.ppmi(counts, 0.75), 30)),
                                          word_class, k=5)  # the first columns of one SVD are the smaller vectors
    assert len({round(at_30, 3), round(unsmoothed, 3), round(right, 3)}) == 3, "the mistakes must be told apart"
    expect(cw.check_ppmi_dimensions, at_30, "at 30 dimensions", capsys, counts, words, word_class)
    expect(cw.check_ppmi_dimensions, unsmoothed, "alpha = 0.75", capsys, counts, words, word_class)
    expect(cw.check_ppmi_dimensions, right + 0.05, "category_precision", capsys, counts, words, word_class)
    expect(cw.check_ppmi_dimensions, right, "toy world's word classes", capsys, counts, words, None)
    expect(cw.check_ppmi_dimensions, "0.9", "expected a number", capsys, counts, words, word_class)


def test_noise_distribution_mistakes(capsys):
    expect(cw.check_noise_distribution, lambda c, e: c / c.sum(), "raise the counts", capsys)
    expect(cw.check_noise_distribution, lambda c, e: c ** e, "sum to 1", capsys)
    expect(cw.check_noise_distribution, lambda c, e: (c ** e / (c ** e).sum())[:-1], "shape", capsys)
