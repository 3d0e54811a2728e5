"""Argument checks at the public boundary, with messages that name the argument and say what to do.

Papermill passes ``-p steps 1e3`` as the float ``1000.0`` and ``-p seed "1"`` as a string: these
checks refuse both with a hint, instead of a failure deep inside torch or a silent truncation.
``check_int`` / ``check_number`` / ``check_text`` check one argument; ``check_fields(self)``, called in a
settings dataclass's ``__post_init__``, checks every field against its annotation, so a wrong value fails
before any data is built, naming the field.

>>> check_int(1e3, "num_documents")
Traceback (most recent call last):
TypeError: num_documents must be an int, got float 1000.0 (papermill passes 1e3 or 1000.0 as a float: write -p num_documents 1000)
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import types
import typing
from pathlib import Path


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


# ------------------------------------------------------------------ dataclass fields

_NONE = type(None)


def _describe(tp: object) -> str:
    if tp is _NONE:
        return "None"
    if isinstance(tp, type):
        return {int: "an int", float: "a number", bool: "True or False", str: "a string"}.get(tp, tp.__name__)
    return str(tp).replace("typing.", "")


def _fits(value: object, tp: object) -> bool:
    """Whether ``value`` fits the annotation ``tp`` (the forms the course uses; anything else is accepted)."""
    origin = typing.get_origin(tp)
    if tp is typing.Any:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(_fits(value, arm) for arm in typing.get_args(tp))
    if origin is typing.Literal:
        return value in typing.get_args(tp)
    if origin is tuple:
        args = typing.get_args(tp)
        if not isinstance(value, (tuple, list)):
            return False
        if len(args) == 2 and args[1] is Ellipsis:
            return all(_fits(v, args[0]) for v in value)
        return len(value) == len(args) and all(_fits(v, a) for v, a in zip(value, args, strict=True))
    if origin in (list, typing.List):  # noqa: UP006
        (arg,) = typing.get_args(tp) or (typing.Any,)
        return isinstance(value, list) and all(_fits(v, arg) for v in value)
    if tp is _NONE:
        return value is None
    if tp is bool:
        return isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if tp is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if tp is Path:
        return isinstance(value, Path)
    if isinstance(tp, type):
        return isinstance(value, tp)
    return True  # an annotation this checker does not know: no opinion


def check_fields(obj: object) -> None:
    """Raise ``TypeError`` naming the first field of dataclass ``obj`` whose value does not fit its annotation.

    Nested dataclass values are checked too (their own ``__post_init__`` usually did it already).
    """
    cls = type(obj)
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(obj):
        if f.name not in hints:
            continue
        value, tp = getattr(obj, f.name), hints[f.name]
        if not _fits(value, tp):
            raise TypeError(f"{cls.__name__}.{f.name} must be {_describe(tp)}, got {type(value).__name__} "
                            f"{value!r}{_hint(value, f.name)}")
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            check_fields(value)
