"""What every exercise checker shares: try the learner's answer, report one line, record the verdict, never raise.

A checker is a function ``check_x(answer, *context) -> bool`` decorated with ``@checker``. It prints one
line (✅ correct, ❌ what is wrong, ⏳ not answered yet) and returns ``True``/``False``; it never raises, so
a notebook with unfinished exercises still runs top to bottom. An answer that is still a stub counts as
"not answered yet": a function that raises ``NotImplementedError``, or a value left as ``...``.

Most answers are functions, which the checker tries on cases of its own. An *investigative* exercise
asks for a number measured in the notebook (change a setting, run, report what it gives); its checker
gets the notebook's objects as ``context`` (``check_x(number, model, batch)``), recomputes the quantity
from them and compares (``number`` reads the learner's value).

Every call leaves one ``Verdict`` (checker name, status, message) in ``VERDICTS``; when the environment
variable ``COURSE_LIB_VERDICTS`` names a file, the verdict is also appended to it as one JSON line, so a
grader can read them even from a notebook that stopped halfway (``tools/grade.py`` does).
"""

from __future__ import annotations

import functools
import json
import math
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import torch

PASS, FAIL, TODO = "✅", "❌", "⏳"
PASSED, FAILED, NOT_ANSWERED = "passed", "failed", "not answered"
VERDICTS_ENV = "COURSE_LIB_VERDICTS"


@dataclass(frozen=True)
class Verdict:
    """The outcome of one checker call: ``checker`` is the checker's function name, e.g. ``check_softmax``."""

    checker: str
    status: str  # PASSED, FAILED or NOT_ANSWERED
    message: str


VERDICTS: list[Verdict] = []  # every verdict of this process, in order; a grader reads the last one per checker
_calls: list[list[tuple[str, str]]] = []  # (status, message) reported inside each checker call now running


class _Stop(Exception):
    """Raised by ``attempt`` to end a check early; the ``@checker`` wrapper turns it into one reported line."""

    def __init__(self, name: str, status: str, message: str) -> None:
        super().__init__(message)
        self.name, self.status, self.message = name, status, message


def report(name: str, ok: bool, message: str, status: str | None = None) -> bool:
    """Print ``✅/❌/⏳ name: message`` and return ``ok``; ``status`` defaults to passed/failed from ``ok``."""
    status = status or (PASSED if ok else FAILED)
    mark = {PASSED: PASS, FAILED: FAIL, NOT_ANSWERED: TODO}[status]
    print(f"{mark} {name}: {message}")
    if _calls:
        _calls[-1].append((status, message))
    else:  # called on its own, outside a checker: record it under the name it was given
        _record(Verdict(name, status, message))
    return ok


def not_answered(name: str, what: str = "replace `raise NotImplementedError` with your code") -> bool:
    """Report an exercise that is still a stub: ``⏳ name: not answered yet: ...``; returns False."""
    return report(name, False, f"not answered yet: {what}.", status=NOT_ANSWERED)


def attempt(name: str, fn: Callable, *args: Any) -> Any:
    """Call the learner's ``fn(*args)`` and return its value.

    A stub (``fn`` raising ``NotImplementedError``, or ``fn`` left as ``...``) or an error inside the
    learner's code ends the check: ``@checker`` reports it as "not answered yet" or as the error.
    """
    if fn is ...:
        raise _Stop(name, NOT_ANSWERED, "not answered yet: replace `...` with your answer.")
    try:
        return fn(*args)
    except NotImplementedError:
        raise _Stop(name, NOT_ANSWERED,
                    "not answered yet: replace `raise NotImplementedError` with your code.") from None
    except Exception as err:  # any error is feedback for the learner, not a crash of the notebook
        raise _Stop(name, FAILED, f"your function raised {type(err).__name__}: {err}") from None


def checker(check: Callable[..., bool]) -> Callable[..., bool]:
    """Make ``check(answer, *context)`` a course checker: one printed line, one recorded ``Verdict``, never an
    exception.

    An answer left as ``...`` is "not answered yet" without calling ``check``; an exception inside the
    checker itself (an answer of a shape it did not foresee) is reported as a failed check.
    """

    @functools.wraps(check)
    def run(answer: Any, *context: Any) -> bool:
        _calls.append([])
        try:
            if answer is ...:
                ok = not_answered(check.__name__, "replace `...` with your answer")
            else:
                ok = bool(check(answer, *context))
        except _Stop as stop:
            ok = report(stop.name, False, stop.message, status=stop.status)
        except Exception as err:  # never raise from a checker: a notebook must run on
            ok = report(check.__name__, False, f"could not check this answer ({type(err).__name__}: {err}); "
                                               "compare what you return with what the exercise asks for.")
        finally:
            reported = _calls.pop()
        status, message = reported[-1] if reported else (PASSED if ok else FAILED, "")  # the last line counts
        _record(Verdict(check.__name__, status, message))
        return status == PASSED

    return run


def number(name: str, answer: Any) -> float:
    """The learner's measured number as a float: a Python, NumPy or one-element tensor number.

    Anything else (a function, a string, a list, NaN...) ends the check with a ❌ that says what was given.
    """
    if callable(answer):
        raise _Stop(name, FAILED, "this exercise asks for a number, not a function: run your experiment and "
                                  "assign the number it gives.")
    if isinstance(answer, torch.Tensor) and answer.numel() == 1:
        answer = answer.item()
    try:
        if isinstance(answer, (bool, str, bytes)):
            raise TypeError(type(answer).__name__)
        value = float(answer)
    except (TypeError, ValueError, AttributeError):
        raise _Stop(name, FAILED, f"expected a number, got {type(answer).__name__} {_shown(answer)}.") from None
    if not math.isfinite(value):
        raise _Stop(name, FAILED, f"got {value}: the number you measured is not finite.")
    return value


def _shown(value: Any) -> str:
    try:
        return f"{value!r:.40}"
    except Exception:  # a value whose repr fails says nothing more
        return ""


def _record(verdict: Verdict) -> None:
    VERDICTS.append(verdict)
    path = os.environ.get(VERDICTS_ENV)
    if path:  # one JSON line per verdict, appended at once: a notebook stopped later keeps what it had
        try:
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(asdict(verdict), ensure_ascii=False) + "\n")
        except OSError as err:
            print(f"{FAIL} could not record the verdict in ${VERDICTS_ENV}={path}: {err}")


def close(a: torch.Tensor, b: torch.Tensor, atol: float = 1e-5) -> bool:
    return isinstance(a, torch.Tensor) and a.shape == b.shape and torch.allclose(a.double(), b.double(), atol=atol)
