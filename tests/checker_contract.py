"""What every exercise checker promises, as tests a checker test module takes over with one call.

    from checker_contract import contract_tests
    (test_a_right_answer_passes_with_one_line, test_a_stub_is_not_attempted_yet,
     test_an_error_is_reported_not_raised, test_a_wrong_type_is_reported_not_raised) = contract_tests(CASES)

``CASES`` lists ``(checker, right answer)`` pairs. A checker prints one line and returns True for a right
answer; for a stub that raises NotImplementedError it says "not attempted yet"; an error inside the
learner's code or an answer of the wrong type is reported (False), never raised.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest


def expect(check: Callable, fn: Callable, words: str, capsys) -> None:
    """A wrong answer fails with one line that starts with ❌ and names the mistake (``words``)."""
    assert check(fn) is False
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out.startswith("❌") and words in out, out


def stub(*_args):
    raise NotImplementedError


def broken(*_args):
    raise RuntimeError("boom")


def contract_tests(cases: Sequence[tuple[Callable, Callable]]) -> tuple[Callable, ...]:
    ids = [check.__name__ for check, _ in cases]
    each = pytest.mark.parametrize(("check", "solution"), cases, ids=ids)

    @each
    def test_a_right_answer_passes_with_one_line(check, solution, capsys) -> None:
        assert check(solution) is True
        out = capsys.readouterr().out
        assert out.count("\n") == 1 and out.startswith("✅")

    @each
    def test_a_stub_is_not_attempted_yet(check, solution, capsys) -> None:
        assert check(stub) is False
        assert "not attempted yet" in capsys.readouterr().out

    @each
    def test_an_error_is_reported_not_raised(check, solution, capsys) -> None:
        assert check(broken) is False
        assert "RuntimeError: boom" in capsys.readouterr().out

    @each
    def test_a_wrong_type_is_reported_not_raised(check, solution, capsys) -> None:
        assert check(lambda *args: "nonsense") is False
        assert capsys.readouterr().out.startswith("❌")

    return (test_a_right_answer_passes_with_one_line, test_a_stub_is_not_attempted_yet,
            test_an_error_is_reported_not_raised, test_a_wrong_type_is_reported_not_raised)
