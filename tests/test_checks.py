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


def test_temperature_and_reproducibility_checkers():
    assert checks.check_temperature(lambda s, t: torch.softmax(s / t, -1))
    assert not checks.check_temperature(lambda s, t: torch.softmax(s * t, -1))

    def good(seed):
        torch.manual_seed(seed)
        return torch.randn(3)

    assert checks.check_reproducible(good)
    assert not checks.check_reproducible(lambda seed: torch.randn(3))
    assert not checks.check_reproducible(lambda seed: torch.zeros(3))


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


@pytest.mark.parametrize("name", sorted(CHECKERS))
def test_no_checker_raises_and_each_records_its_verdict(name, capsys):
    check = CHECKERS[name]
    cases = [(_stub, core.NOT_ANSWERED), (..., core.NOT_ANSWERED), (_crash, core.FAILED),
             (lambda *a: _Weird(), core.FAILED), (lambda *a: None, core.FAILED)]
    for answer, status in cases:
        before = len(core.VERDICTS)
        assert check(answer) is False
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
    checks.check_temperature(...)
    checks.check_softmax(lambda x: 1 / 0)
    capsys.readouterr()
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [(r["checker"], r["status"]) for r in rows] == [
        ("check_softmax", "passed"), ("check_temperature", "not answered"), ("check_softmax", "failed")]
    assert "ZeroDivisionError" in rows[2]["message"]


def test_a_report_outside_a_checker_is_recorded_under_its_name(capsys):
    assert checks.report("my own check", True, "fine") is True
    assert capsys.readouterr().out == "✅ my own check: fine\n"
    assert core.VERDICTS[-1] == core.Verdict("my own check", "passed", "fine")


def test_attempt_outside_a_checker_ends_the_check_with_the_reason():
    with pytest.raises(Exception, match="not answered yet"):
        checks.attempt("x", _stub)
    assert checks.attempt("x", lambda a: a + 1, 1) == 2
