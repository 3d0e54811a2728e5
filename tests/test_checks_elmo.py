"""Checkers of notebooks 03 and 04: right answers pass, stubs are "not answered yet", typical mistakes are named."""

from __future__ import annotations

import pytest
import torch
from checker_contract import assert_measured_contract, contract_tests, expect

from course_lib.checks import elmo as ce
from course_lib.core import train_probe
from course_lib.elmo import BiLM, BiLMConfig
from course_lib.text import Vocab

pytestmark = pytest.mark.usefixtures("one_thread")  # tiny models: one thread is fastest

WORDS = "the bank river money tom sat by a loan took fish".split()


def reverse(x, lengths):
    B, T = x.shape[:2]
    t = torch.arange(T).expand(B, T)
    index = torch.where(t < lengths[:, None], lengths[:, None] - 1 - t, t)
    return x.gather(1, index[..., None].expand_as(x))


def backward_shift(ids):
    reversed_ids = reverse(ids[..., None], (ids != 0).sum(1))[..., 0]
    return reversed_ids[:, :-1].masked_fill(reversed_ids[:, :-1] == 5, 0), reversed_ids[:, 1:]


def one_direction(layers, direction):
    D = layers[0].shape[-1] // 2
    part = slice(0, D) if direction == "forward" else slice(D, 2 * D)
    return torch.cat([h[:, part] for h in layers[1:]], dim=-1)


def within_across(x, labels):
    u = torch.nn.functional.normalize(x, dim=-1)
    sim = u @ u.T
    same = labels[:, None] == labels[None, :]
    return sim[same & ~torch.eye(len(labels), dtype=torch.bool)].mean().item(), sim[~same].mean().item()


CASES = [(ce.check_reverse, reverse), (ce.check_backward_shift, backward_shift),
         (ce.check_direction_half, one_direction), (ce.check_within_across, within_across)]
(test_a_right_answer_passes_with_one_line, test_a_stub_is_not_answered_yet,
 test_an_error_is_reported_not_raised, test_a_wrong_type_is_reported_not_raised,
 test_each_call_records_one_verdict) = contract_tests(CASES)


def tiny_bilm() -> tuple[BiLM, list[list[str]]]:
    """An untrained tiny biLM and a few sentences: notebook 03's objects, smaller."""
    torch.manual_seed(0)
    bilm = BiLM(BiLMConfig.tiny(len(Vocab(WORDS))), Vocab(WORDS)).eval()
    with torch.no_grad():  # confident predictions, so that each direction and order gets its own perplexity
        bilm.embedding.weight.mul_(20)
    g = torch.Generator().manual_seed(1)
    sentences = [[WORDS[i] for i in torch.randint(len(WORDS), (n,), generator=g)] for n in (3, 5, 4, 6, 2)]
    return bilm, sentences


def test_the_reversed_perplexity_passes_and_keeps_the_contract(capsys):
    bilm, sentences = tiny_bilm()
    forward, backward = ce.reversed_perplexities(bilm, sentences)
    assert (forward, backward) == bilm.perplexities([s[::-1] for s in sentences])
    assert_measured_contract(ce.check_reversed_perplexity, forward, (bilm, sentences), capsys)
    assert ce.check_reversed_perplexity(round(forward, 3), bilm, sentences) is True


def test_reversed_perplexity_mistakes(capsys):
    bilm, sentences = tiny_bilm()
    forward, backward = ce.reversed_perplexities(bilm, sentences)
    as_written = bilm.perplexities(sentences)[0]
    assert min(abs(forward / backward - 1), abs(forward / as_written - 1), abs(backward / as_written - 1)) > 0.01
    expect(ce.check_reversed_perplexity, backward, "backward LM", capsys, bilm, sentences)
    expect(ce.check_reversed_perplexity, as_written, "as written", capsys, bilm, sentences)
    expect(ce.check_reversed_perplexity, forward * 1.5, "returns (forward, backward)", capsys, bilm, sentences)
    expect(ce.check_reversed_perplexity, forward, "pass the notebook's `bilm`", capsys, "bilm", sentences)


def probe_data():
    """Three layers of features for 20 classes that only layer 1 separates: notebook 04's objects, smaller."""
    g = torch.Generator().manual_seed(0)
    y_train, y_test = torch.randint(20, (300,), generator=g), torch.randint(20, (200,), generator=g)
    centres = torch.randn(20, 8, generator=g) * 3

    def layers(y):
        noise = [torch.randn(len(y), 8, generator=g) for _ in range(3)]
        return [noise[0], centres[y] + noise[1], centres[y] * 0.3 + noise[2]]

    return layers(y_train), y_train, layers(y_test), y_test


def test_the_few_label_probe_passes_and_keeps_the_contract(capsys):
    train, y_train, test, y_test = probe_data()
    right = ce.few_label_accuracy(train, y_train, test, y_test, seed=0)
    assert right == train_probe(train[1][:100], y_train[:100], test[1], y_test, seed=0)
    assert_measured_contract(ce.check_few_labels, right, (train, y_train, test, y_test, 0), capsys)


def test_few_label_mistakes(capsys):
    train, y_train, test, y_test = probe_data()
    context = (train, y_train, test, y_test, 0)
    layer0 = ce.few_label_accuracy(train, y_train, test, y_test, seed=0, layer=0)
    every = train_probe(train[1], y_train, test[1], y_test, seed=0)
    right = ce.few_label_accuracy(train, y_train, test, y_test, seed=0)
    assert len({round(layer0, 3), round(every, 3), round(right, 3)}) == 3
    expect(ce.check_few_labels, layer0, "layer 0", capsys, *context)
    expect(ce.check_few_labels, every, "all 300 tokens", capsys, *context)
    expect(ce.check_few_labels, (right + layer0) / 2, "first 100 training", capsys, *context)


def test_other_mistakes_are_named(capsys):
    expect(ce.check_reverse, lambda x, lengths: x.flip(1), "moves the padding", capsys)
    expect(ce.check_direction_half, lambda layers, d: one_direction([layers[0], *layers], d), "leave out layer 0",
           capsys)
    expect(ce.check_within_across, lambda x, y: (1.0, 0.0), "expected", capsys)
