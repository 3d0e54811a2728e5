"""The model cache: every pre-trained model of the course is trained once, then read from disk.
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from torch import nn

from course_lib.base import cache_dir
from course_lib.core.train import History, load_checkpoint, save_checkpoint


def config_key(*configs: Any) -> str:
    """A short stable hash of dataclass configs (and plain values): the name of a cached model."""
    payload = json.dumps([dataclasses.asdict(c) if dataclasses.is_dataclass(c) else c for c in configs],
                         sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:12]


def load_or_train(
    name: str,
    build: Callable[[], nn.Module],
    train: Callable[[nn.Module], History],
    key: str,
    folder: str | Path | None = None,
) -> tuple[nn.Module, History]:
    """A model trained earlier in the course: from the cache when there, else trained and cached.

    ``build()`` makes the untrained model, ``train(model)`` trains it deterministically and returns
    its history; ``key`` (see ``config_key``) names the configuration, and a fingerprint of the code
    that defines the model and the training is added, so other settings or changed code never load
    stale weights. Cached in ``cache_dir()/models/{name}-{key}-{code}.pt`` with the history inside.
    """
    folder = Path(folder) if folder is not None else cache_dir() / "models"
    model = build()
    path = folder / f"{name}-{key}-{code_fingerprint(type(model), train)}.pt"
    if path.exists():
        try:
            extra = load_checkpoint(model, path)
            return model, History.from_dict(extra["history"])
        except (ValueError, KeyError, TypeError):
            path.unlink(missing_ok=True)  # stale or damaged cache entry: train again
            model = build()
    history = train(model)
    save_checkpoint(model, path, extra={"history": history.to_dict()})
    return model, history


def code_fingerprint(*objects: Any) -> str:
    """A short hash of the source files that define ``objects`` (classes or functions).

    Objects whose source cannot be read (defined in a notebook, built-ins) are skipped.
    """
    digest = hashlib.sha256()
    for obj in objects:
        module = sys.modules.get(getattr(obj, "__module__", "") or "")
        try:
            digest.update(inspect.getsource(module).encode())
        except (TypeError, OSError):
            continue
    return digest.hexdigest()[:8]
