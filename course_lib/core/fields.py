"""Type checks for the course's settings dataclasses, so a wrong value fails at once, naming its field.

papermill passes ``-p steps 1e3`` as the float 1000.0, and ``-p lr 1e-3`` from some shells as a string;
without a check, such a value travels through data building and fails minutes later inside a loop with a
message that names neither the setting nor the fix. ``check_fields(self)`` in ``__post_init__`` reads the
dataclass's annotations and rejects what does not fit:

>>> from dataclasses import dataclass
>>> @dataclass
... class Settings:
...     steps: int = 100
...     def __post_init__(self): check_fields(self)
>>> Settings(steps=1e3)
Traceback (most recent call last):
TypeError: Settings.steps must be an int, got float 1000.0 (papermill passes numbers such as 1e3 as floats: write steps=1000)
"""

from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path

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


def _hint(name: str, value: object, tp: object) -> str:
    """What to do, for the mistakes papermill and notebooks make."""
    wants_int = tp is int or int in typing.get_args(tp)
    if wants_int and isinstance(value, float) and value.is_integer():
        return f" (papermill passes numbers such as 1e3 as floats: write {name}={int(value)})"
    if isinstance(value, str) and (tp in (int, float) or {int, float} & set(typing.get_args(tp))):
        return f" (a number written as text: pass {name}={value} without quotes)"
    return ""


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
                            f"{value!r}{_hint(f.name, value, tp)}")
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            check_fields(value)
