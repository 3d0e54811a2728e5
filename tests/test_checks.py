import json

import pytest
import torch

from course_lib import checks
from course_lib.checks import core


def stable_softmax(x):
    z = x - x.max(dim=-1, keepdim=True).values
    return z.exp() / z.exp().sum(dim=-1, keepdim=True)


def test_a_correct_softmax_passes(capsys):
    assert checks.check_softmax(stable_softmax) is True
    assert "✅" in capsys.readouterr().out


def test_an_overflowing_softmax_gets_the_hint(capsys):
    assert checks.check_softmax(lambda x: x.exp() / x.exp().sum(-1, keepdim=True)) is False
    assert "subtract the maximum" in capsys.readouterr().out


def test_a_wrong_axis_and_an_unfinished_exercise_are_told_apart(capsys):
    assert checks.check_softmax(lambda x: torch.softmax(x, dim=0)) is False
    assert "wrong values" in capsys.readouterr().out

    def todo(x):
        raise NotImplementedError

    assert checks.check_softmax(todo) is False
    assert "not answered yet" in capsys.readouterr().out


def test_a_crashing_answer_is_reported_not_raised(capsys):
    assert checks.check_softmax(lambda x: 1 / 0) is False
    assert "ZeroDivisionError" in capsys.readouterr().out


SCORES = torch.tensor([2.0, 1.0, 0.5, -1.0])  # notebook 00's scores


def test_the_temperature_of_a_tie(capsys):
    from course_lib.checks.welcome import temperature_for

    t = temperature_for(SCORES, 0.5)
    assert abs(torch.softmax(SCORES / t, -1)[0].item() - 0.5) < 1e-9 and 1 < t < 10
    assert checks.check_half_temperature(round(t, 3), SCORES) is True
    assert checks.check_half_temperature(torch.tensor(t), SCORES) is True  # a one-element tensor is a number
    for wrong, words in ((1.0, "raise T"), (t * 1.1, "lower T"), (-1.0, "positive")):
        assert checks.check_half_temperature(wrong, SCORES) is False
        assert words in capsys.readouterr().out
    assert checks.check_half_temperature(t, [2.0, 1.0]) is False  # not the notebook's scores
    assert "pass the notebook's `scores`" in capsys.readouterr().out


def test_the_perplexity_bound_and_its_typical_mistakes(capsys):
    import math

    def right(sentences):
        return math.exp(-sum(s.logprob for s in sentences) / sum(len(s.tokens) + 1 for s in sentences))

    def no_eos(sentences):
        return math.exp(-sum(s.logprob for s in sentences) / sum(len(s.tokens) for s in sentences))

    def no_minus(sentences):
        return 1 / right(sentences)

    def nats(sentences):
        return math.log(right(sentences))

    assert checks.check_perplexity_bound(right) is True
    capsys.readouterr()
    for wrong, words in ((no_eos, "<eos>"), (no_minus, "minus"), (nats, "exp()"), (lambda s: "4.6", "a number")):
        assert checks.check_perplexity_bound(wrong) is False
        assert words in capsys.readouterr().out


# ------------------------------------------------------------ every checker of the course: the shared contract

def all_checkers():
    """Every ``@checker`` of every module in course_lib.checks (found by import, so a new module is included)."""
    import importlib
    import pkgutil

    import course_lib.checks as package

    found = {}
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"course_lib.checks.{info.name}")
        for name, obj in vars(module).items():
            if name.startswith("check_") and callable(obj) and getattr(obj, "__module__", "") == module.__name__:
                found[f"{info.name}.{name}"] = obj
    return found


CHECKERS = all_checkers()


def test_every_checker_is_decorated_and_they_are_all_found():
    assert len(CHECKERS) >= 40
    undecorated = [name for name, fn in CHECKERS.items() if not hasattr(fn, "__wrapped__")]
    assert undecorated == [], f"add @checker to {undecorated}: it records the verdict and keeps it from raising"


def _stub(*_args):
    raise NotImplementedError


def _crash(*_args):
    raise KeyError("oops")


class _Weird:
    """An answer no checker foresees: every operation on it fails."""

    def __getattr__(self, name):
        raise AttributeError(name)

    def __iter__(self):
        raise TypeError("not iterable")

    def __float__(self):
        raise TypeError("no float")


def context_size(check) -> int:
    """How many notebook objects a checker takes after the answer (0 for a function exercise's checker)."""
    import inspect

    return len(inspect.signature(check.__wrapped__).parameters) - 1


MEASURED = sorted(name for name, check in CHECKERS.items() if context_size(check))


def test_every_investigative_checker_is_called_with_its_notebook_objects():
    assert MEASURED, "no investigative checker (a number and the notebook objects it is measured from)"


@pytest.mark.parametrize("name", sorted(CHECKERS))
def test_no_checker_raises_and_each_records_its_verdict(name, capsys):
    check = CHECKERS[name]
    cases = [(_stub, core.NOT_ANSWERED), (..., core.NOT_ANSWERED), (_crash, core.FAILED),
             (lambda *a: _Weird(), core.FAILED), (lambda *a: None, core.FAILED)]
    if name in MEASURED:  # a number is asked for: a function is the wrong type, and the context is missing
        cases = [(..., core.NOT_ANSWERED), (_stub, core.FAILED), (_Weird(), core.FAILED), (None, core.FAILED),
                 (0.5, core.FAILED)]
    missing = (None,) * context_size(check)
    for answer, status in cases:
        before = len(core.VERDICTS)
        assert check(answer, *missing) is False
        out = capsys.readouterr().out
        assert out.count("\n") == 1 and out[0] in "⏳❌", out
        assert len(core.VERDICTS) == before + 1
        verdict = core.VERDICTS[-1]
        assert (verdict.checker, verdict.status) == (check.__name__, status), (answer, verdict)
        if status == core.NOT_ANSWERED:
            assert "not answered yet" in out


def test_verdicts_go_to_the_file_named_by_the_environment(tmp_path, monkeypatch, capsys):
    path = tmp_path / "verdicts.jsonl"
    monkeypatch.setenv(core.VERDICTS_ENV, str(path))
    checks.check_softmax(stable_softmax)
    checks.check_half_temperature(..., SCORES)
    checks.check_softmax(lambda x: 1 / 0)
    capsys.readouterr()
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [(r["checker"], r["status"]) for r in rows] == [
        ("check_softmax", "passed"), ("check_half_temperature", "not answered"), ("check_softmax", "failed")]
    assert "ZeroDivisionError" in rows[2]["message"]


def test_a_report_outside_a_checker_is_recorded_under_its_name(capsys):
    assert checks.report("my own check", True, "fine") is True
    assert capsys.readouterr().out == "✅ my own check: fine\n"
    assert core.VERDICTS[-1] == core.Verdict("my own check", "passed", "fine")


def test_attempt_outside_a_checker_ends_the_check_with_the_reason():
    with pytest.raises(Exception, match="not answered yet"):
        checks.attempt("x", _stub)
    assert checks.attempt("x", lambda a: a + 1, 1) == 2
