"""Checkers of notebook 11: right answers pass, stubs are "not answered yet", typical mistakes are named."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from checker_contract import contract_tests, expect

from course_lib.checks import inside as ci

# ------------------------------------------------------------------ right answers (the notebook's solutions)


def mass_to(attention, key_positions):
    return attention[:, :, key_positions].sum(-1).mean(-1)


def previous_token_mass(attention):
    return attention.diagonal(offset=-1, dim1=-2, dim2=-1).mean(-1)


def uniform_baseline(lengths):
    return sum(1 / T for T in lengths) / len(lengths)


def within_across(x, senses):
    x = F.normalize(x - x.mean(0), dim=-1)
    sim = x @ x.T
    labels = torch.tensor(senses)
    same = labels[:, None] == labels[None, :]
    other = ~torch.eye(len(senses), dtype=torch.bool)
    return sim[same & other].mean().item(), sim[~same].mean().item()


CASES = [
    (ci.check_mass_to, mass_to),
    (ci.check_previous_token_mass, previous_token_mass),
    (ci.check_uniform_baseline, uniform_baseline),
    (ci.check_within_across, within_across),
]
(test_a_right_answer_passes_with_one_line, test_a_stub_is_not_answered_yet,
 test_an_error_is_reported_not_raised, test_a_wrong_type_is_reported_not_raised,
 test_each_call_records_one_verdict) = contract_tests(CASES)


# ------------------------------------------------------------------ typical mistakes get a specific message



def test_mass_on_the_query_axis_is_named(capsys) -> None:
    expect(ci.check_mass_to, lambda a, k: a[:, k, :].sum(1).mean(-1), "keys are the last index", capsys)


def test_averaging_over_the_keys_is_named(capsys) -> None:
    expect(ci.check_mass_to, lambda a, k: a[:, :, k].mean((1, 2)), "averaged over the keys", capsys)


def test_next_token_instead_of_previous_is_named(capsys) -> None:
    expect(ci.check_previous_token_mass, lambda a: a.diagonal(offset=1, dim1=-2, dim2=-1).mean(-1),
           "*next* token", capsys)


def test_dividing_by_all_queries_is_named(capsys) -> None:
    expect(ci.check_previous_token_mass, lambda a: a.diagonal(offset=-1, dim1=-2, dim2=-1).sum(-1) / a.shape[-1],
           "T-1 queries", capsys)


def test_one_over_the_mean_length_is_named(capsys) -> None:
    expect(ci.check_uniform_baseline, lambda lengths: len(lengths) / sum(lengths), "not 1 over the average", capsys)


def test_forgetting_to_centre_is_named(capsys) -> None:
    expect(ci.check_within_across, _raw, "subtract the mean row", capsys)


def _raw(x, senses):
    x = F.normalize(x, dim=-1)
    sim = x @ x.T
    labels = torch.tensor(senses)
    same = labels[:, None] == labels[None, :]
    other = ~torch.eye(len(senses), dtype=torch.bool)
    return sim[same & other].mean().item(), sim[~same].mean().item()


def test_self_pairs_in_within_are_named(capsys) -> None:
    def with_self(x, senses):
        x = F.normalize(x - x.mean(0), dim=-1)
        labels = torch.tensor(senses)
        sim = x @ x.T
        return sim[labels[:, None] == labels[None, :]].mean().item(), sim[labels[:, None] != labels[None, :]].mean().item()

    expect(ci.check_within_across, with_self, "with itself", capsys)
