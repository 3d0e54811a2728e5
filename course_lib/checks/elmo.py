"""Checkers for the exercises of notebooks 03 (the biLM) and 04 (using ELMo)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch

from course_lib.checks.core import attempt, checker, close, number, report
from course_lib.core import train_probe
from course_lib.elmo import BiLM


@checker
def check_backward_shift(fn: Callable) -> bool:
    """``fn(ids (B, T+2) wrapped as <bos> w .. <eos> [PAD]...) -> (inputs, targets)`` of the backward LM.

    The backward LM reads the sentence reversed: inputs ``<eos> w_n .. w_1``, targets ``w_n .. w_1 <bos>``.
    """
    name = "backward LM shift"
    ids = torch.tensor([[5, 7, 8, 9, 6], [5, 10, 6, 0, 0]])
    out = attempt(name, fn, ids)
    inputs = torch.tensor([[6, 9, 8, 7], [6, 10, 0, 0]])
    targets = torch.tensor([[9, 8, 7, 5], [10, 5, 0, 0]])
    if not (isinstance(out, tuple) and len(out) == 2):
        return report(name, False, "return a pair (inputs, targets)")
    if torch.equal(out[0], inputs) and torch.equal(out[1], targets):
        return report(name, True, "inputs <eos> w_n .. w_1, targets w_n .. w_1 <bos>, padding kept at the end")
    return report(name, False, f"for {ids.tolist()} expected inputs {inputs.tolist()} and targets {targets.tolist()}")


@checker
def check_reverse(fn: Callable) -> bool:
    """``fn(x (B, T, C), lengths (B,))`` reverses the first lengths[b] positions of each row, padding stays."""
    name = "reverse with padding"
    x = torch.arange(2 * 4 * 2, dtype=torch.float).view(2, 4, 2)
    lengths = torch.tensor([4, 2])
    out = attempt(name, fn, x, lengths)
    if close(out, BiLM.reverse(x, lengths)):
        return report(name, True, "each sentence reversed, padding left where it was")
    if close(out, x.flip(1)):
        return report(name, False, "flipping the whole row moves the padding to the front: reverse only the real part")
    return report(name, False, "reverse x[b, :lengths[b]] and keep x[b, lengths[b]:] as it is")


REVERSED_SENTENCES = 1000  # the first test sentences of exercise 3 (notebook 03)


def reversed_perplexities(bilm: BiLM, sentences: Sequence[Sequence[str]]) -> tuple[float, float]:
    """(forward, backward) perplexity of ``bilm`` on the first ``REVERSED_SENTENCES`` sentences, word order
    reversed: the forward LSTMs then read each sentence from its end, as the backward ones were trained to."""
    with torch.no_grad():
        return bilm.perplexities([list(s)[::-1] for s in sentences[:REVERSED_SENTENCES]])


def _as_written(bilm: BiLM, sentences: Sequence[Sequence[str]]) -> float:
    with torch.no_grad():
        return bilm.perplexities([list(s) for s in sentences[:REVERSED_SENTENCES]])[0]


@checker
def check_reversed_perplexity(answer: float, bilm: BiLM, sentences: Sequence[Sequence[str]]) -> bool:
    """``answer``: the forward LM's perplexity on the first 1,000 test ``sentences`` with their words reversed
    (within 0.1 %), recomputed from the notebook's ``bilm``."""
    name = "check_reversed_perplexity"
    value = number(name, answer)
    if not (isinstance(bilm, BiLM) and isinstance(sentences, Sequence) and len(sentences) > 0):
        return report(name, False, "pass the notebook's `bilm` and `test_sentences` after your answer.")
    forward, backward = reversed_perplexities(bilm, sentences)
    if math.isclose(value, forward, rel_tol=1e-3):
        as_read = _as_written(bilm, sentences)
        return report(name, True, f"correct: {forward:.3f} reading backwards against {as_read:.3f} reading "
                                  "forwards, with the same weights: each direction's LSTMs learned one job.")
    if math.isclose(value, backward, rel_tol=1e-3):
        return report(name, False, "that is the backward LM on the reversed sentences (the second number "
                                   "perplexities returns): the question is about the forward one.")
    if math.isclose(value, _as_written(bilm, sentences), rel_tol=1e-3):
        return report(name, False, "that is the forward perplexity of the sentences as written: reverse the words "
                                   "of each sentence first (s[::-1]).")
    return report(name, False, f"the forward LM on the first {REVERSED_SENTENCES} test sentences, reversed, does "
                               f"not give {value:.3f}: bilm.perplexities([s[::-1] for s in "
                               f"test_sentences[:{REVERSED_SENTENCES}]]) returns (forward, backward).")


@checker
def check_direction_half(fn: Callable) -> bool:
    """``fn(layers, direction) -> (N, L·D)``: the forward (first) or backward (second) half of layers 1..L."""
    name = "one direction's features"
    g = torch.Generator().manual_seed(2)
    layers = [torch.randn(3, 8, generator=g) for _ in range(3)]  # L + 1 = 3 layers, D = 4
    ok = True
    for direction, part in (("forward", slice(0, 4)), ("backward", slice(4, 8))):
        out = attempt(name, fn, layers, direction)
        expected = torch.cat([h[:, part] for h in layers[1:]], dim=-1)
        if not close(out, expected):
            if close(out, torch.cat([h[:, part] for h in layers], dim=-1)):
                return report(name, False, "leave out layer 0: the token layer has no direction ([x; x])")
            ok = False
            wrong = direction
    if ok:
        return report(name, True, "forward half = h[:, :D], backward half = h[:, D:], of layers 1 .. L")
    return report(name, False, f"for {wrong!r} expected the {'first' if wrong == 'forward' else 'second'} half "
                               "of every LSTM layer, concatenated: shape (N, L·D)")


@checker
def check_within_across(fn: Callable) -> bool:
    """``fn(x (N, C), labels (N,)) -> (within, across)``: mean cosine of same-label pairs (i != j) and of
    different-label pairs."""
    name = "within- and across-sense cosine"
    x = torch.tensor([[1.0, 0.0], [2.0, 0.2], [0.0, 1.0], [0.1, 3.0]])
    labels = torch.tensor([0, 0, 1, 1])
    out = attempt(name, fn, x, labels)
    u = torch.nn.functional.normalize(x, dim=-1)
    sim = u @ u.T
    same = labels[:, None] == labels[None, :]
    off = ~torch.eye(4, dtype=torch.bool)
    within, across = sim[same & off].mean(), sim[~same].mean()
    if not (isinstance(out, tuple) and len(out) == 2):
        return report(name, False, "return a pair (within, across)")
    got = torch.tensor([float(out[0]), float(out[1])])
    if close(got, torch.stack([within, across])):
        return report(name, True, f"within {float(within):.3f} > across {float(across):.3f} on the example")
    if close(got[:1], sim[same].mean()[None]):
        return report(name, False, "leave out the pairs of a token with itself (cosine 1) from 'within'")
    if close(got, torch.stack([(x @ x.T)[same & off].mean(), (x @ x.T)[~same].mean()])):
        return report(name, False, "cosine similarity divides the dot product by both vectors' lengths")
    return report(name, False, f"expected ({float(within):.3f}, {float(across):.3f}) on the example")


FEW_LABELS = 100  # training tokens of the few-label probe (notebook 04, exercise 3)


def few_label_accuracy(train: Sequence[torch.Tensor], y_train: torch.Tensor, test: Sequence[torch.Tensor],
                       y_test: torch.Tensor, seed: int, layer: int = 1, n: int = FEW_LABELS) -> float:
    """Test accuracy of notebook 04's linear probe on one layer, trained on the first ``n`` tokens only."""
    return train_probe(train[layer][:n], y_train[:n], test[layer], y_test, seed=seed)


@checker
def check_few_labels(answer: float, train: Sequence[torch.Tensor], y_train: torch.Tensor,
                     test: Sequence[torch.Tensor], y_test: torch.Tensor, seed: int) -> bool:
    """``answer``: test accuracy of the layer-1 sense probe trained on the first 100 training tokens (within
    0.001), recomputed with ``train_probe`` from the notebook's features and labels."""
    name = "check_few_labels"
    value = number(name, answer)
    if not (isinstance(train, Sequence) and len(train) > 1 and isinstance(y_train, torch.Tensor)
            and isinstance(test, Sequence) and isinstance(y_test, torch.Tensor) and isinstance(seed, int)):
        return report(name, False, "pass the notebook's `S_train, ys_train, S_test, ys_test, seed` after your "
                                   "answer.")
    want = few_label_accuracy(train, y_train, test, y_test, seed)
    if abs(value - want) <= 1e-3:
        full = train_probe(train[1], y_train, test[1], y_test, seed=seed)
        return report(name, True, f"correct: {want:.3f} from {FEW_LABELS} labelled tokens, against {full:.3f} "
                                  f"from all {len(y_train)}.")
    if abs(value - few_label_accuracy(train, y_train, test, y_test, seed, layer=0)) <= 1e-3:
        return report(name, False, "that is layer 0, the static token layer: probe layer 1, the first LSTM layer.")
    if abs(value - train_probe(train[1], y_train, test[1], y_test, seed=seed)) <= 1e-3:
        return report(name, False, f"that is the probe trained on all {len(y_train)} tokens: keep only the first "
                                   f"{FEW_LABELS} (x[:{FEW_LABELS}], y[:{FEW_LABELS}]).")
    return report(name, False, f"expected the test accuracy of train_probe on layer 1's first {FEW_LABELS} training "
                               f"tokens (seed={seed}), tested on every test token; you gave {value:.3f}.")
