"""What every exercise checker promises, as tests a checker test module takes over with one call.

    from checker_contract import contract_tests
    (test_a_right_answer_passes_with_one_line, test_a_stub_is_not_answered_yet,
     test_an_error_is_reported_not_raised, test_a_wrong_type_is_reported_not_raised,
     test_each_call_records_one_verdict) = contract_tests(CASES)

An investigative exercise's checker takes a measured number and the notebook objects it recomputes the
number from; ``measured_contract_tests(MEASURED)`` gives the same promises for ``(checker, right number,
context)`` triples (a stub is a value left as ``...``; a function, a string or NaN is the wrong type).

``CASES`` lists ``(checker, right answer)`` pairs. A checker prints one line and returns True for a right
answer; for a stub that raises NotImplementedError (or an answer left as ``...``) it says "not answered
yet"; an error inside the learner's code or an answer of the wrong type is reported (False), never
raised; and every call records exactly one verdict under the checker's name, which the grader reads.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest

from course_lib.checks import core


def expect(check: Callable, fn: Callable, words: str, capsys, *context) -> None:
    """A wrong answer fails with one line that starts with ❌ and names the mistake (``words``)."""
    assert check(fn, *context) is False
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
    def test_a_stub_is_not_answered_yet(check, solution, capsys) -> None:
        for unanswered in (stub, ...):  # a function still raising NotImplementedError, a value left as `...`
            assert check(unanswered) is False
            out = capsys.readouterr().out
            assert out.startswith("⏳") and "not answered yet" in out and out.count("\n") == 1, out

    @each
    def test_an_error_is_reported_not_raised(check, solution, capsys) -> None:
        assert check(broken) is False
        assert "RuntimeError: boom" in capsys.readouterr().out

    @each
    def test_a_wrong_type_is_reported_not_raised(check, solution, capsys) -> None:
        assert check(lambda *args: "nonsense") is False
        assert capsys.readouterr().out.startswith("❌")

    @each
    def test_each_call_records_one_verdict(check, solution, capsys) -> None:
        before = len(core.VERDICTS)
        for answer, status in ((solution, core.PASSED), (stub, core.NOT_ANSWERED), (broken, core.FAILED)):
            check(answer)
            line = capsys.readouterr().out.strip()
            verdict = core.VERDICTS[-1]
            assert (verdict.checker, verdict.status) == (check.__name__, status)
            assert line.endswith(verdict.message), (line, verdict)  # the message is what the learner read
        assert len(core.VERDICTS) == before + 3

    return (test_a_right_answer_passes_with_one_line, test_a_stub_is_not_answered_yet,
            test_an_error_is_reported_not_raised, test_a_wrong_type_is_reported_not_raised,
            test_each_call_records_one_verdict)


def measured_contract_tests(cases: Sequence[tuple[Callable, float, tuple]]) -> tuple[Callable, ...]:
    ids = [check.__name__ for check, _, _ in cases]
    each = pytest.mark.parametrize(("check", "right", "context"), cases, ids=ids)

    @each
    def test_a_right_number_passes_with_one_line(check, right, context, capsys) -> None:
        assert check(right, *context) is True
        out = capsys.readouterr().out
        assert out.count("\n") == 1 and out.startswith("✅"), out

    @each
    def test_a_number_left_as_ellipsis_is_not_answered_yet(check, right, context, capsys) -> None:
        assert check(..., *context) is False
        out = capsys.readouterr().out
        assert out.startswith("⏳") and "not answered yet" in out and out.count("\n") == 1, out

    @each
    def test_a_wrong_type_or_a_missing_context_is_reported_not_raised(check, right, context, capsys) -> None:
        for wrong, args in (("nonsense", context), (stub, context), (float("nan"), context), ([right], context),
                            (right, (None,) * len(context))):
            assert check(wrong, *args) is False
            out = capsys.readouterr().out
            assert out.startswith("❌") and out.count("\n") == 1, (wrong, out)

    @each
    def test_each_call_records_one_measured_verdict(check, right, context, capsys) -> None:
        before = len(core.VERDICTS)
        for answer, status in ((right, core.PASSED), (..., core.NOT_ANSWERED), ("nonsense", core.FAILED)):
            check(answer, *context)
            line = capsys.readouterr().out.strip()
            verdict = core.VERDICTS[-1]
            assert (verdict.checker, verdict.status) == (check.__name__, status)
            assert line.endswith(verdict.message), (line, verdict)
        assert len(core.VERDICTS) == before + 3

    return (test_a_right_number_passes_with_one_line, test_a_number_left_as_ellipsis_is_not_answered_yet,
            test_a_wrong_type_or_a_missing_context_is_reported_not_raised, test_each_call_records_one_measured_verdict)
