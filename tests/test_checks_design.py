"""Checkers of notebook 12: right answers pass, stubs are "not answered yet", typical mistakes are named."""

from __future__ import annotations

import math

import torch
from checker_contract import contract_tests

from course_lib.checks import design as cd

# ------------------------------------------------------------------ right answers (the notebook's solutions)


def causal_mask(T):
    return torch.ones(T, T, dtype=torch.bool).tril()


def next_token_targets(ids, attention_mask):
    return ids[:, :-1], ids[:, 1:].masked_fill(attention_mask[:, 1:] == 0, -100)


def visible_positions(kind, t, T):
    return {"gpt": set(range(t + 1)), "elmo-forward": set(range(t + 1)), "elmo-backward": set(range(t, T)),
            "elmo": set(range(T)), "bert": set(range(T))}[kind]


def perplexity(logprobs):
    flat = [x for s in logprobs for x in s]
    return math.exp(-sum(flat) / len(flat))


CASES = [
    (cd.check_causal_mask, causal_mask),
    (cd.check_next_token_targets, next_token_targets),
    (cd.check_visible_positions, visible_positions),
    (cd.check_perplexity, perplexity),
]

(test_a_right_answer_passes_with_one_line, test_a_stub_is_not_answered_yet,
 test_an_error_is_reported_not_raised, test_a_wrong_type_is_reported_not_raised,
 test_each_call_records_one_verdict) = contract_tests(CASES)


# ------------------------------------------------------------------ typical mistakes get a specific hint


def test_a_transposed_or_inverted_mask_is_named(capsys) -> None:
    assert not cd.check_causal_mask(lambda T: causal_mask(T).T)
    assert "transposed" in capsys.readouterr().out
    assert not cd.check_causal_mask(lambda T: ~causal_mask(T))
    assert "inverted" in capsys.readouterr().out
    assert not cd.check_causal_mask(lambda T: causal_mask(T).int())
    assert "booleans" in capsys.readouterr().out


def test_unmasked_padding_and_a_wrong_shift_are_named(capsys) -> None:
    assert not cd.check_next_token_targets(lambda ids, m: (ids[:, :-1], ids[:, 1:]))
    assert "-100" in capsys.readouterr().out
    assert not cd.check_next_token_targets(lambda ids, m: (ids[:, 1:], ids[:, :-1].masked_fill(m[:, :-1] == 0, -100)))
    assert "wrong way" in capsys.readouterr().out


def test_a_missing_word_itself_and_a_wrong_direction_are_named(capsys) -> None:
    assert not cd.check_visible_positions(lambda kind, t, T: visible_positions(kind, t, T) - {t})
    assert "the word itself counts" in capsys.readouterr().out
    swapped = {"elmo-forward": "elmo-backward", "elmo-backward": "elmo-forward"}
    assert not cd.check_visible_positions(lambda kind, t, T: visible_positions(swapped.get(kind, kind), t, T))
    assert "elmo-forward" in capsys.readouterr().out


def test_averaging_per_sentence_or_a_missing_minus_is_named(capsys) -> None:
    assert not cd.check_perplexity(lambda lp: math.exp(-sum(sum(s) / len(s) for s in lp) / len(lp)))
    assert "all tokens together" in capsys.readouterr().out
    assert not cd.check_perplexity(lambda lp: 1 / perplexity(lp))
    assert "negative" in capsys.readouterr().out
