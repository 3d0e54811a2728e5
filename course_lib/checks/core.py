"""What every exercise checker shares: try the learner's function, report one line, never raise.

A checker prints one line and returns ``True``/``False``; it never raises for a wrong answer, so a
notebook with unfinished exercises still runs top to bottom. A function that still raises
``NotImplementedError`` counts as "not attempted yet".
"""

from __future__ import annotations

from collections.abc import Callable

import torch

PASS, FAIL, TODO = "✅", "❌", "⏳"


def report(name: str, ok: bool, message: str) -> bool:
    print(f"{PASS if ok else FAIL} {name}: {message}")
    return ok


def attempt(name: str, fn: Callable, *args):
    """Call the learner's ``fn``; return ``(value, None)`` or ``(None, message)`` when it raised."""
    try:
        return fn(*args), None
    except NotImplementedError:
        return None, f"{TODO} {name}: not attempted yet: replace `raise NotImplementedError` with your code."
    except Exception as err:  # any error is feedback for the learner, not a crash of the notebook
        return None, f"{FAIL} {name}: your function raised {type(err).__name__}: {err}"


def close(a: torch.Tensor, b: torch.Tensor, atol: float = 1e-5) -> bool:
    return isinstance(a, torch.Tensor) and a.shape == b.shape and torch.allclose(a.double(), b.double(), atol=atol)


