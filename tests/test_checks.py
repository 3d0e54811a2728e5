import torch

from course_lib import checks


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
    assert "not attempted yet" in capsys.readouterr().out


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
