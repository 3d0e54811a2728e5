"""Argument checks at the public boundary, with messages that name the argument and say what to do.

Papermill passes ``-p steps 1e3`` as the float ``1000.0`` and ``-p seed "1"`` as a string: these
checks refuse both with a hint, instead of a failure deep inside torch or a silent truncation.
``check_int`` / ``check_number`` / ``check_text`` check one argument; ``check_fields(self)``, called in a
settings dataclass's ``__post_init__``, checks every field against its annotation, so a wrong value fails
before any data is built, naming the field.

Models check their tensors once per call, at the boundary: ``check_token_ids``, ``check_attention_mask``,
``check_labels`` and ``check_features``. A model that has checked its inputs runs its layers (or a generation
loop its steps) inside ``checked_inputs()``, where ``should_check()`` is False, so a layer or a step does not
check again: the cost stays one check per call, whatever the depth or the length.

>>> check_int(1e3, "num_documents")
Traceback (most recent call last):
TypeError: num_documents must be an int, got float 1000.0 (papermill passes 1e3 or 1000.0 as a float: write -p num_documents 1000)
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import math
import numbers
import types
import typing
from collections.abc import Iterator
from pathlib import Path

import torch
from torch import Tensor


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


# ------------------------------------------------------------------ tensors at a model's boundary

_CHECKED = contextvars.ContextVar("course_lib_inputs_checked", default=False)


@contextlib.contextmanager
def checked_inputs() -> Iterator[None]:
    """Run a block whose model calls skip their input checks: the caller has checked once, at the boundary."""
    token = _CHECKED.set(True)
    try:
        yield
    finally:
        _CHECKED.reset(token)


def should_check() -> bool:
    """False inside ``checked_inputs()``: an enclosing call has already checked the inputs."""
    return not _CHECKED.get()


def _shape(x: Tensor) -> tuple[int, ...]:
    return tuple(x.shape)


def _check_tensor(x: object, name: str, expected: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor {expected}, got {type(x).__name__}"
                        f"{': wrap it, e.g. torch.tensor(' + name + ')' if isinstance(x, (list, tuple)) else ''}")
    return x


def _check_integer(x: Tensor, name: str, what: str) -> None:
    if x.is_floating_point() or x.is_complex() or x.dtype == torch.bool:
        raise TypeError(f"{name} must hold integer {what} (torch.long), got dtype {x.dtype}: {what} are indices, "
                        f"not amounts; build them as integers (e.g. pad_batch) or convert with {name}.long()")


def _check_range(x: Tensor, name: str, size: int, size_name: str, fix: str = "",
                 ignore_index: int | None = None) -> None:
    """Raise unless every entry of x is in [0, size) or equals ``ignore_index``: one pass, one read back."""
    if x.numel() == 0:
        return
    if ignore_index is not None:
        x = x.masked_fill(x == ignore_index, 0)
    low, high = torch.stack(torch.aminmax(x)).tolist()
    valid = f"0..{size - 1}" + ("" if ignore_index is None else f" or {ignore_index} (not scored)")
    if high >= size:
        raise ValueError(f"the largest id in {name} is {high}, but {size_name} is {size} (valid: {valid}){fix}")
    if low < 0:
        note = " (-100 marks labels that are not scored; it is never an input)" if low == -100 else ""
        raise ValueError(f"{name} holds the negative id {low}{note}; valid: {valid} ({size_name} {size}){fix}")


def check_token_ids(input_ids: object, vocab_size: int, name: str = "input_ids",
                    max_length: int | None = None) -> Tensor:
    """Raise, naming ``name``, unless ``input_ids`` is a (B, T) integer tensor with B, T >= 1, T <= ``max_length``
    (the learned positions; None: any length) and every id in [0, vocab_size). Returns it."""
    x = _check_tensor(input_ids, name, "of token ids (B, T)")
    _check_integer(x, name, "token ids")
    if x.dim() != 2:
        hint = f": for one sequence add a batch dimension, {name}[None]" if x.dim() == 1 else ""
        raise ValueError(f"{name} must be (B, T) token ids, one row per sequence, got shape {_shape(x)}{hint}")
    B, T = x.shape
    if B == 0 or T == 0:
        raise ValueError(f"{name} is empty, shape {_shape(x)}: give at least one sequence of at least one token")
    if max_length is not None and T > max_length:
        raise ValueError(f"{name} has {T} tokens per sequence, but the model has only {max_length} learned positions:"
                         f" cut the sequences to at most {max_length} tokens (truncate when encoding)")
    _check_range(x, name, vocab_size, "the vocabulary size (config.vocab_size)",
                 ": encode the text with this model's own vocabulary or tokenizer")
    return x


def check_attention_mask(mask: object, input_ids: Tensor, name: str = "attention_mask",
                         ids_name: str = "input_ids") -> Tensor | None:
    """Raise, naming ``name``, unless ``mask`` is None or a 0/1 (or boolean) tensor of ``input_ids``' shape (B, T)
    with at least one 1 (a real token) in every row. Returns it.

    A mask of another shape is refused even when it would broadcast: a (1, T) mask over (B, T) ids would
    give every row the first row's padding.
    """
    if mask is None:
        return None
    m = _check_tensor(mask, name, "(B, T) of 1 = real token, 0 = padding")
    if _shape(m) != _shape(input_ids):
        raise ValueError(f"{name} has shape {_shape(m)} but must have the shape of {ids_name} {_shape(input_ids)}: one "
                         "0/1 entry per token (pad_batch returns both); a smaller mask is not broadcast")
    if m.is_complex():
        raise TypeError(f"{name} must hold 0 and 1 (or booleans), got dtype {m.dtype}")
    row_max = m.amax(dim=1)  # (B,): 0 where a row has no real token
    low, high, emptiest = torch.stack([m.amin(), row_max.amax(), row_max.amin()]).tolist()  # one read back
    if low < 0 or high > 1 or (m.is_floating_point() and bool(((m != 0) & (m != 1)).any())):
        found = sorted(set(m[(m != 0) & (m != 1)].flatten()[:3].tolist()))
        raise ValueError(f"{name} must hold only 0 and 1 (1 = real token), found {found}: an additive mask "
                         "(0 / -inf) is not an attention_mask; pass (mask == 0).long() for one")
    if emptiest == 0:
        rows = (row_max == 0).nonzero().flatten()[:5].tolist()
        raise ValueError(f"{name} rows {rows} have no real token (all 0): every sequence needs at least one 1; "
                         "drop empty sequences from the batch")
    return mask


def check_labels(labels: object, num_classes: int, name: str, shape: tuple[int, ...], size_name: str,
                 ignore_index: int | None = None, shape_name: str = "one per sequence") -> Tensor:
    """Raise, naming ``name``, unless ``labels`` is an integer tensor of ``shape`` with every entry in
    [0, num_classes) (or equal to ``ignore_index``). ``size_name`` names ``num_classes``, ``shape_name`` says
    where the shape comes from ("the shape of input_ids"). Returns it."""
    x = _check_tensor(labels, name, f"of shape {shape}")
    _check_integer(x, name, "class ids")
    if _shape(x) != tuple(shape):
        raise ValueError(f"{name} has shape {_shape(x)} but must have {shape_name}: {tuple(shape)}")
    _check_range(x, name, num_classes, size_name, ignore_index=ignore_index)
    return x


def check_features(x: object, name: str, size: int, batch: int | None = None) -> Tensor:
    """Raise, naming ``name``, unless ``x`` is a floating (B, T, size) tensor (B equal to ``batch`` when given)."""
    x = _check_tensor(x, name, f"(B, T, {size})")
    if not x.is_floating_point():
        raise TypeError(f"{name} must be a floating tensor of vectors (B, T, {size}), got dtype {x.dtype}: token ids "
                        "go through an embedding first")
    if x.dim() != 3 or x.shape[-1] != size:
        raise ValueError(f"{name} must be (B, T, {size}): one {size}-wide vector per token, got {_shape(x)}")
    if batch is not None and x.shape[0] != batch:
        raise ValueError(f"{name} has batch size {x.shape[0]} but the queries have {batch}: they must match")
    return x
