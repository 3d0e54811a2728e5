"""The model cache: every pre-trained model of the course comes from one recipe, is trained once, then read.

A **recipe** is a settings dataclass that subclasses ``Recipe`` (``LSTMLMSettings``, ``BiLMSettings``,
``GPTSettings``, ``ToyBertSettings``): its fields are everything that decides the trained weights, its
``build()`` makes the untrained model and its ``train(model, device, progress)`` trains it. ``pretrained(settings)``
returns ``(model in eval mode, History)``: from the cache folder when the entry exists, else built, trained and
stored. A notebook that needs a model trained earlier in the course passes the same settings object.

- **Deterministic.** The model is built and trained inside a forked random state (torch's CPU and CUDA
  generators, Python's ``random``, NumPy's global generator) seeded from ``settings.seed``, on
  ``settings.threads`` torch threads. The caller's random state never matters, and is left as it was.
- **Never stale.** The key hashes every settings field, the recipe's class, the data a recipe reads from outside
  the package (``data_fingerprint``), a fingerprint of the course_lib source that can change the weights, torch's
  major.minor version and the device type (CPU and CUDA kernels round differently). The source fingerprint is
  the recipe module's **import closure**, read statically: every course_lib module it imports, directly or not
  (inside functions too), with the packages whose ``__init__`` Python runs on the way, minus the modules that
  cannot change a weight: pictures (``viz``, ``diagrams``), progress bars, the exercise checkers (``checks``)
  and the course map.
- **Safe to share.** Two processes that ask for the same missing entry take a file lock: one trains, the other
  waits and then loads. A damaged entry (truncated, not a checkpoint, other keys) is retrained with a warning;
  an entry that cannot be read (permissions, I/O) raises ``CacheError`` naming the file and leaves it alone.
  Entries are written atomically, with the user's umask; a failed save warns, naming ``COURSE_LIB_CACHE``, and
  the trained model is still returned. A read-only cache (an instructor's, shared by a class) is read without a lock.
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import functools
import hashlib
import json
import random
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import filelock
import numpy as np
import torch
from torch import nn

from course_lib.arguments import check_fields
from course_lib.base import cache_dir, get_device
from course_lib.core.train import History, load_checkpoint, save_checkpoint

PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # the folder that holds course_lib/
# modules that cannot change a trained weight (and every `*.viz` module): pictures, architecture diagrams,
# progress bars, exercise checkers, the course map, wall-clock timing, summaries of results over seeds
NO_WEIGHTS = ("course_lib.viz", "course_lib.diagrams", "course_lib.progress", "course_lib.checks",
              "course_lib.course_map", "course_lib.core.timing", "course_lib.core.spread")


class CacheError(OSError):
    """A cache entry exists but cannot be read (permissions, I/O): it is left as it is."""


class CacheWarning(UserWarning):
    """The cache could not be used as asked (a damaged entry, a folder that cannot be written)."""


class Recipe:
    """Base of the settings dataclasses of the course's pre-trained models (see the module docstring).

    A subclass is a frozen dataclass with at least ``seed: int`` and ``threads: int`` fields, a ``name``
    (the cache file's prefix), ``build()`` and ``train(model, device, progress) -> History``; its
    ``__post_init__`` calls ``check_fields(self)`` so that a wrong type fails before any data is built.
    """

    name: ClassVar[str] = "model"

    def build(self) -> nn.Module:
        raise NotImplementedError

    def train(self, model: nn.Module, device: torch.device, progress: bool) -> History:
        raise NotImplementedError

    def key_settings(self) -> dict:
        """The settings as they enter the key: every field (a recipe may blank one it derives, see ``LMRecipe``)."""
        return dataclasses.asdict(self)

    def data_fingerprint(self) -> Any:
        """Key material for data the package's code does not determine (a local corpus file); None for the toy world."""
        return None


# ------------------------------------------------------------------------------------------- the key


def _module_file(name: str, root: Path) -> Path | None:
    """The source file of course_lib module ``name`` under ``root`` (a package's ``__init__.py``), or None."""
    base = root.joinpath(*name.split("."))
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    return None


def _changes_no_weight(name: str) -> bool:
    return name.startswith(NO_WEIGHTS) or name.endswith(".viz")


def _imported_modules(name: str, path: Path, root: Path) -> set[str]:
    """The course_lib modules that ``name``'s source imports anywhere (top level or inside functions)."""
    found: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from .x import y
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{a.name}" for a in node.names)  # `from pkg import submodule`
    modules = set()
    for module in found:
        if module == "course_lib" or module.startswith("course_lib."):
            parts = module.split(".")
            modules.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))  # parents run their __init__
    return {m for m in modules if _module_file(m, root) is not None}


def import_closure(module: str, root: Path | None = None) -> dict[str, Path]:
    """Every course_lib module that importing ``module`` runs, minus those that change no weight: name -> file."""
    root = PACKAGE_ROOT if root is None else Path(root)
    parts = module.split(".")
    todo, seen = [".".join(parts[:i]) for i in range(1, len(parts) + 1)], {}  # parents run their __init__ first
    while todo:
        name = todo.pop()
        if name in seen or _changes_no_weight(name):
            continue
        path = _module_file(name, root)
        if path is None:
            continue
        seen[name] = path
        todo.extend(_imported_modules(name, path, root) - seen.keys())
    return dict(sorted(seen.items()))


def code_fingerprint(module: str, root: Path | None = None) -> str:
    """A hash of the source of ``import_closure(module)``: any edit there that could change a weight changes it."""
    digest = hashlib.sha256()
    for name, path in import_closure(module, root).items():
        digest.update(name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@functools.cache
def _fingerprint_of(module: str) -> str:
    return code_fingerprint(module)  # the package's source does not change while a process runs


def _check_recipe(settings: object) -> None:
    if isinstance(settings, type) and issubclass(settings, Recipe):
        raise TypeError(f"settings must be a Recipe instance, got the class {settings.__name__}: call it, "
                        f"{settings.__name__}()")
    if not dataclasses.is_dataclass(settings) or not isinstance(settings, Recipe):
        hint = (": a model's config is not a recipe; pass the settings that hold it, e.g. GPTSettings(model=config)"
                if dataclasses.is_dataclass(settings) else "")
        raise TypeError(f"settings must be a Recipe dataclass (e.g. ToyBertSettings()), got "
                        f"{type(settings).__name__}{hint}")


def recipe_key(settings: Recipe, device: str | torch.device = "cpu", root: Path | None = None) -> str:
    """The cache key of ``settings`` trained on ``device``: a hash of everything that decides the weights."""
    _check_recipe(settings)
    cls = type(settings)
    code = _fingerprint_of(cls.__module__) if root is None else code_fingerprint(cls.__module__, root)
    payload = {
        "recipe": f"{cls.__module__}.{cls.__qualname__}",
        "settings": settings.key_settings(),
        "data": settings.data_fingerprint(),
        "code": code,
        "torch": ".".join(torch.__version__.split("+")[0].split(".")[:2]),
        "device": torch.device(device).type,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


# ----------------------------------------------------------------------------------- build and train


@contextlib.contextmanager
def seeded(seed: int, device: torch.device | None = None) -> Iterator[None]:
    """Run a block with every random generator seeded from ``seed``; restore the caller's states afterwards."""
    py_state, np_state = random.getstate(), np.random.get_state()
    cuda = [device.index or 0] if device is not None and device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda):
        torch.manual_seed(seed)
        random.seed(seed)
        np.random.seed(seed % 2**32)
        try:
            yield
        finally:
            random.setstate(py_state)
            np.random.set_state(np_state)


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run a block on ``n`` torch CPU threads (results depend on the count: reductions split differently)."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _build_and_train(settings: Recipe, device: torch.device, progress: bool) -> tuple[nn.Module, History]:
    with seeded(settings.seed, device), torch_threads(settings.threads):
        model = settings.build()
        history = settings.train(model, device, progress)
    return model, history


# ------------------------------------------------------------------------------------------- the files


def models_folder() -> Path | None:
    """``cache_dir()/models``, created when missing; None (with a warning) when it cannot be."""
    try:
        folder = cache_dir(create=False) / "models"
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    except OSError as err:
        warnings.warn(f"the model cache {cache_dir(create=False)} cannot be used ({err}); models are trained but "
                      "not kept. Set COURSE_LIB_CACHE to a folder you can write to.", CacheWarning, stacklevel=3)
        return None


def _read_entry(settings: Recipe, path: Path) -> tuple[nn.Module, History] | None:
    """The cached model and history, or None when the entry is damaged (then it is retrained)."""
    with seeded(settings.seed):
        model = settings.build()
    try:
        extra = load_checkpoint(model, path)  # OSError (permissions, I/O) goes up: the entry may be fine
        history = History.from_dict(extra["history"])
    except (ValueError, KeyError, TypeError) as err:
        warnings.warn(f"the cached model {path} is damaged ({err}); training it again.", CacheWarning, stacklevel=3)
        return None
    return model, history


def _remove_stale_temporaries(path: Path) -> None:
    """Delete what a process killed while saving this entry left behind (we hold the entry's lock)."""
    for tmp in path.parent.glob(f".{path.name}.*.tmp"):  # course_lib.files' temp names
        tmp.unlink(missing_ok=True)


def _save_entry(model: nn.Module, history: History, path: Path) -> None:
    try:
        save_checkpoint(model, path, extra={"history": history.to_dict()})
    except (OSError, RuntimeError) as err:  # a read-only folder, a full disk: keep the model, say what to do
        warnings.warn(f"the trained model could not be saved to {path} ({type(err).__name__}: {err}); it is "
                      "returned but not cached. Set COURSE_LIB_CACHE to a writable folder with free space to keep "
                      "it.", CacheWarning, stacklevel=3)


@contextlib.contextmanager
def _entry_lock(path: Path) -> Iterator[bool]:
    """Hold the entry's file lock (yields True), or yield False when the folder cannot hold a lock file."""
    lock = filelock.FileLock(str(path) + ".lock")
    try:
        lock.acquire(timeout=0)
    except filelock.Timeout:
        print(f"Another process is training {path.name}; waiting for it, then loading its result.")
        lock.acquire()
    except OSError:  # read-only or shared without write access: read if there, else train without caching
        yield False
        return
    try:
        yield True
    finally:
        lock.release()


def pretrained(settings: Recipe, device: str | torch.device = "auto", progress: bool = True,
               folder: str | Path | None = None) -> tuple[nn.Module, History]:
    """The model that ``settings`` describes, trained: from the cache, or built, trained and cached.

    Returns ``(model in eval mode, History)``. ``device``: where to train ("auto": CUDA when present), part of the
    key; the model is returned on it. ``folder``: the cache folder (default ``cache_dir()/models``).
    """
    _check_recipe(settings)
    check_fields(settings)
    device = get_device(device)
    key = recipe_key(settings, device)
    if folder is not None and Path(folder).is_file():  # an argument mistake: refused before any training
        raise NotADirectoryError(f"folder {str(folder)!r} is a file: pass a folder for the cache entries (or None "
                                 "for cache_dir()/models)")
    folder = Path(folder) if folder is not None else models_folder()
    if folder is None:
        model, history = _build_and_train(settings, device, progress)
        return model.eval(), history
    path = folder / f"{settings.name}-{key}.pt"
    with _entry_lock(path) as locked:
        if path.exists():
            try:
                loaded = _read_entry(settings, path)
            except OSError as err:
                raise CacheError(f"the cached model {path} exists but cannot be read ({err}). Fix its permissions, "
                                 "or set COURSE_LIB_CACHE to another folder.") from err
            if loaded is not None:
                model, history = loaded
                return model.to(device).eval(), history
        if locked:
            _remove_stale_temporaries(path)
        model, history = _build_and_train(settings, device, progress)
        _save_entry(model, history, path)
    return model.eval(), history
