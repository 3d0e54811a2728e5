"""Argument checks at the public boundary, with messages that name the argument and say what to do.

Papermill passes ``-p steps 1e3`` as the float ``1000.0`` and ``-p seed "1"`` as a string: these
checks refuse both with a hint, instead of a failure deep inside torch or a silent truncation.

>>> check_int(1e3, "num_documents")
Traceback (most recent call last):
TypeError: num_documents must be an int, got float 1000.0 (papermill passes 1e3 or 1000.0 as a float: write -p num_documents 1000)
"""

from __future__ import annotations

import math
import numbers


def _hint(value: object, name: str) -> str:
    if isinstance(value, float) and value.is_integer():
        return f" (papermill passes 1e3 or {value!r} as a float: write -p {name} {int(value)})"
    if isinstance(value, str):
        return " (a string: drop the quotes)" if _looks_numeric(value) else ""
    if isinstance(value, bytes):
        return f": decode it first, e.g. {name}.decode('utf-8')"
    return ""


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def check_int(value: object, name: str, minimum: int | None = None, maximum: int | None = None) -> int:
    """``value`` as an ``int`` (NumPy integers too, never ``bool``), within ``[minimum, maximum]``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}{_hint(value, name)}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def check_optional_int(value: object, name: str, minimum: int | None = None) -> int | None:
    """``None``, or ``check_int(value, name, minimum)``."""
    return None if value is None else check_int(value, name, minimum)


def check_number(value: object, name: str, minimum: float | None = None, maximum: float | None = None,
                 above: float | None = None) -> float:
    """``value`` as a finite ``float`` (ints accepted, never ``bool``) in ``[minimum, maximum]``, ``> above``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r}{_hint(value, name)}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum:g}, got {value:g}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum:g}, got {value:g}")
    if above is not None and value <= above:
        raise ValueError(f"{name} must be > {above:g}, got {value:g}")
    return value


def check_text(value: object, name: str) -> str:
    """``value`` when it is a ``str``; bytes get a hint to decode them."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {type(value).__name__}"
                        f"{'' if value is None else ' ' + repr(value)[:60]}{_hint(value, name)}")
    return value
