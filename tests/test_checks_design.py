"""Checkers of notebook 12: right answers pass, stubs are "not answered yet", typical mistakes are named."""

from __future__ import annotations

import random

import pytest
import torch
from checker_contract import assert_measured_contract, contract_tests, expect

from course_lib.checks import design as cd
from course_lib.data.tasks import SenseExample
from course_lib.gpt import GPT, GPTConfig
from course_lib.text import Vocab

pytestmark = pytest.mark.usefixtures("one_thread")  # tiny models: one thread is fastest

# ------------------------------------------------------------------ right answers (the notebook's solutions)


def next_token_targets(ids, attention_mask):
    return ids[:, :-1], ids[:, 1:].masked_fill(attention_mask[:, 1:] == 0, -100)


def visible_positions(kind, t, T):
    return {"gpt": set(range(t + 1)), "elmo-forward": set(range(t + 1)), "elmo-backward": set(range(t, T)),
            "elmo": set(range(T)), "bert": set(range(T))}[kind]


CASES = [
    (cd.check_next_token_targets, next_token_targets),
    (cd.check_visible_positions, visible_positions),
]

(test_a_right_answer_passes_with_one_line, test_a_stub_is_not_answered_yet,
 test_an_error_is_reported_not_raised, test_a_wrong_type_is_reported_not_raised,
 test_each_call_records_one_verdict) = contract_tests(CASES)


# ------------------------------------------------------------------ typical mistakes get a specific hint


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


CUES = {"bank": (("money", "lends"), ("river", "floods"), "right"), "palm": (("hand", "sweaty"), ("tree", "tropical"),
                                                                           "left")}


def sense_data(n: int, seed: int) -> list[SenseExample]:
    """Sentences with a polysemous word whose sense only its cue tells: on the right for "bank", on the left for
    "palm" (notebook 12's probe examples, smaller)."""
    rng, out = random.Random(seed), []
    for _ in range(n):
        word = rng.choice(sorted(CUES))
        *senses, side = CUES[word]
        label = rng.randrange(2)
        cue = senses[label][1]
        tokens = ["the", word, cue, "now"] if side == "right" else ["the", cue, word, "now"]
        position, cue_position = tokens.index(word), tokens.index(cue)
        out.append(SenseExample(tokens, position, word, senses[label][0], label, side, cue_position, 1,
                                2 * sorted(CUES).index(word) + label))
    return out


def tiny_gpt():
    vocab = Vocab.build([["the", "now", *CUES, *(c for *s, _ in CUES.values() for _, c in s)]])
    torch.manual_seed(0)
    return GPT(GPTConfig.tiny(vocab_size=len(vocab)), vocab).eval(), vocab


def test_gpt_read_at_the_cue_passes_and_keeps_the_contract(capsys):
    gpt, vocab = tiny_gpt()
    train, test = sense_data(200, 0), sense_data(100, 1)
    later = cd.gpt_probe_by_side(gpt, vocab, train, test, seed=0, at_cue=True)
    at_word = cd.gpt_probe_by_side(gpt, vocab, train, test, seed=0, at_cue=False)
    assert later["right"] > at_word["right"] + 0.3  # even untrained, the vector at the cue holds the cue
    assert_measured_contract(cd.check_gpt_at_cue, later["right"], (gpt, vocab, train, test, 0), capsys)


def test_gpt_at_cue_mistakes(capsys):
    gpt, vocab = tiny_gpt()
    train, test = sense_data(200, 0), sense_data(100, 1)
    later = cd.gpt_probe_by_side(gpt, vocab, train, test, seed=0, at_cue=True)
    at_word = cd.gpt_probe_by_side(gpt, vocab, train, test, seed=0, at_cue=False)
    context = (gpt, vocab, train, test, 0)
    assert abs(later["all"] - later["right"]) > 1e-3
    expect(cd.check_gpt_at_cue, later["all"], "right-cue words only", capsys, *context)
    expect(cd.check_gpt_at_cue, at_word["right"], "before its cue", capsys, *context)
    expect(cd.check_gpt_at_cue, 2.0, "another right-cue accuracy", capsys, *context)
