"""What every exercise checker promises, as tests a checker test module takes over with one call.

    from checker_contract import contract_tests
    (test_a_right_answer_passes_with_one_line, test_a_stub_is_not_answered_yet,
     test_an_error_is_reported_not_raised, test_a_wrong_type_is_reported_not_raised,
     test_each_call_records_one_verdict) = contract_tests(CASES)

An investigative exercise's checker takes a measured number and the notebook objects it recomputes the
number from; ``assert_measured_contract(check, right, context, capsys)`` asserts the same promises for it
(a stub is a value left as ``...``; a function, a string or NaN is the wrong type), inside a test that has
built small stand-ins for the notebook's objects.

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


def assert_measured_contract(check: Callable, right: float, context: tuple, capsys) -> None:
    """The promises of an investigative exercise's checker, for its right number and the objects it is measured
    from: the right number passes with one line; ``...`` is "not answered yet"; a string, a function, NaN, a
    list or missing notebook objects fail with one line, never raise; each call records one verdict."""
    before = len(core.VERDICTS)
    assert check(right, *context) is True
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out.startswith("✅"), out
    assert core.VERDICTS[-1].status == core.PASSED and out.strip().endswith(core.VERDICTS[-1].message)
    assert check(..., *context) is False
    out = capsys.readouterr().out
    assert out.startswith("⏳") and "not answered yet" in out and out.count("\n") == 1, out
    assert core.VERDICTS[-1].status == core.NOT_ANSWERED
    wrong = [("nonsense", context), (stub, context), (float("nan"), context), ([right], context),
             (right, (None,) * len(context))]
    for answer, args in wrong:
        assert check(answer, *args) is False
        out = capsys.readouterr().out
        assert out.startswith("❌") and out.count("\n") == 1, (answer, out)
        assert core.VERDICTS[-1].status == core.FAILED and out.strip().endswith(core.VERDICTS[-1].message)
    assert {v.checker for v in core.VERDICTS[before:]} == {check.__name__}
    assert len(core.VERDICTS) == before + 2 + len(wrong)
