"""The few things every notebook needs: a seed, a device, and a way to read library code."""

from __future__ import annotations

import inspect
import os
import random
from pathlib import Path

import numpy as np
import torch

from course_lib.files import prepare_folder


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch (CPU and CUDA) so that a run can be repeated.

    Returns a fresh ``torch.Generator`` seeded with ``seed``, for code that prefers an explicit
    generator to the global one (data generation, masking).

    >>> g = seed_everything(0); a = torch.rand(2)
    >>> g = seed_everything(0); torch.equal(a, torch.rand(2))
    True
    """
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int, got {type(seed).__name__} {seed!r}")
    if not 0 <= seed < 2**32:
        raise ValueError(f"seed must be in [0, 2**32), got {seed}")
    os.environ["PYTHONHASHSEED"] = str(seed)  # for subprocesses; this process's hash seed is fixed at start
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
    return torch.Generator().manual_seed(seed)


def get_device(spec: str | torch.device = "auto") -> torch.device:
    """Resolve a device spec: ``"auto"`` gives CUDA when present, else the CPU.

    Apple's MPS is used only when asked for by name (``"mps"``): some of its kernels give wrong
    losses, so it is never picked silently. Any other spec (``"cpu"``, ``"cuda:1"``) is checked
    and returned as a ``torch.device``.
    """
    if isinstance(spec, torch.device):
        spec = str(spec)
    if not isinstance(spec, str):
        raise TypeError(f"device must be a string such as 'auto', 'cpu' or 'cuda', got {spec!r}")
    spec = spec.strip().lower()
    if spec == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(spec)
    except RuntimeError as err:
        raise ValueError(f"unknown device {spec!r}: use 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'") from err
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {spec!r} was asked for but CUDA is not available here: use 'auto' or 'cpu'")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise ValueError(f"device {spec!r}: only {torch.cuda.device_count()} CUDA device(s) here")
    if device.type == "mps" and not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
        raise ValueError("device 'mps' was asked for but MPS is not available here: use 'auto' or 'cpu'")
    return device


def show_source(obj: object) -> None:
    """Display the source code of a library function or class in a notebook (plain text elsewhere)."""
    try:
        source = inspect.getsource(obj)
    except (TypeError, OSError) as err:
        raise TypeError(f"cannot show the source of {obj!r}: {err}") from err
    try:
        from IPython import get_ipython
        from IPython.display import Markdown, display
    except ImportError:  # plain Python: print it
        print(source)
        return
    if get_ipython() is None:
        print(source)
    else:
        display(Markdown(f"```python\n{source}```"))


def cache_dir(create: bool = True) -> Path:
    """The folder for downloads and cached trained models.

    ``$COURSE_LIB_CACHE`` when set, else ``~/.cache/course_lib``.
    """
    path = Path(os.environ.get("COURSE_LIB_CACHE") or Path.home() / ".cache" / "course_lib").expanduser()
    if create:
        prepare_folder(path, "the cache folder (set by $COURSE_LIB_CACHE)")
    return path
