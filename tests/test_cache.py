"""The model cache (course_lib.core.cache): one recipe mechanism, deterministic from a cold cache, never stale,
safe for two processes, and careful with files it cannot read or write."""

from __future__ import annotations

import dataclasses
import json
import os
import random
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from course_lib.bert import ToyBertSettings
from course_lib.core import (
    CacheError,
    CacheWarning,
    History,
    TrainConfig,
    import_closure,
    pretrained,
    recipe_key,
)
from course_lib.core.cache import PACKAGE_ROOT, _imported_modules
from course_lib.lm import LSTMLMSettings
from tests.support.cache_child import SlowRecipe, digest, tiny_recipes

ROOT = Path(__file__).resolve().parents[1]


def child(*args: str, env: dict | None = None, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tests.support.cache_child", *args], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, **(env or {})},
                            **kwargs)


def finish(process: subprocess.Popen) -> tuple[dict, str]:
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1]), out


def slow(tmp_path: Path, seconds: float = 0.0) -> SlowRecipe:
    return SlowRecipe(log=str(tmp_path / "log.txt"), seconds=seconds)


def runs(tmp_path: Path) -> int:
    log = tmp_path / "log.txt"
    return len(log.read_text().splitlines()) if log.exists() else 0


# ------------------------------------------------------------------------------------ determinism


def test_every_recipe_gives_bit_identical_weights_from_a_cold_cache_whatever_the_global_rng(tmp_path) -> None:
    a = child("determinism", "1", env={"COURSE_LIB_CACHE": str(tmp_path / "a")})
    b = child("determinism", "2", env={"COURSE_LIB_CACHE": str(tmp_path / "b")})
    (first, _), (second, _) = finish(a), finish(b)
    assert set(first) == {"lstm-lm", "bilm", "gpt", "toy-bert mlm+nsp", "toy-bert mlm", "toy-bert ltr"}
    assert first == second
    assert len(set(first.values())) == len(first)  # six different models, not one hash six times
    for cache in ("a", "b"):
        assert len(list((tmp_path / cache / "models").glob("*.pt"))) == 6


def test_training_leaves_the_callers_random_state_as_it_was(tmp_path) -> None:
    torch.manual_seed(123)
    random.seed(123)
    np.random.seed(123)
    expected = (torch.rand(3), random.random(), np.random.rand())
    torch.manual_seed(123)
    random.seed(123)
    np.random.seed(123)
    pretrained(tiny_recipes()["lstm-lm"], device="cpu", progress=False, folder=tmp_path)
    assert torch.equal(torch.rand(3), expected[0]) and random.random() == expected[1]
    assert np.random.rand() == expected[2]


# --------------------------------------------------------------------------------- the key


def _edit(root: Path, module: str, old: str, new: str) -> None:
    path = root / (module.replace(".", "/") + ".py")
    text = path.read_text()
    assert old in text, f"{old!r} is no longer in {path}: update this test"
    path.write_text(text.replace(old, new, 1))


@pytest.fixture
def package_copy(tmp_path) -> Path:
    shutil.copytree(PACKAGE_ROOT / "course_lib", tmp_path / "course_lib",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


@pytest.mark.parametrize("module, old, new", [
    ("course_lib.core.train", "optimizer.zero_grad(set_to_none=True)", "optimizer.zero_grad(set_to_none=False)"),
    ("course_lib.text.collate", "IGNORE_INDEX = -100", "IGNORE_INDEX = -99"),
    ("course_lib.data.tasks", "is_next = rng.permutation(len(starts)) < (len(starts) + 1) // 2",
     "is_next = rng.permutation(len(starts)) < len(starts) // 2"),
    ("course_lib.wordvec.counts", "def ppmi_svd(", "def ppmi_svd(  # a changed signature line\n"),
])
def test_a_one_line_change_that_can_change_the_weights_changes_the_toy_berts_key(package_copy, module, old, new):
    settings = ToyBertSettings()
    before = recipe_key(settings, root=package_copy)
    assert before == recipe_key(settings)  # the copy is the package: the same key
    _edit(package_copy, module, old, new)
    assert recipe_key(settings, root=package_copy) != before


def test_a_change_to_the_pictures_or_the_checkers_does_not(package_copy) -> None:
    settings = ToyBertSettings()
    before = recipe_key(settings, root=package_copy)
    _edit(package_copy, "course_lib.viz", "DPI = ", "DPI = 1 + ")
    _edit(package_copy, "course_lib.elmo.viz", '"""', '"""Changed. ')
    _edit(package_copy, "course_lib.diagrams", '"""', '"""Changed. ')
    _edit(package_copy, "course_lib.progress", "mininterval: float = 0.5", "mininterval: float = 0.1")
    (package_copy / "course_lib" / "checks" / "core.py").write_text("# changed\n")
    assert recipe_key(settings, root=package_copy) == before
    # the training loop imports the progress bars: left out of the closure, not merely never reached
    assert "course_lib.progress" in _imported_modules("course_lib.core.train", package_copy / "course_lib" / "core"
                                                      / "train.py", package_copy)


def test_the_closure_follows_imports_and_leaves_out_what_cannot_change_a_weight() -> None:
    bert = import_closure("course_lib.bert.toy")
    lstm = import_closure("course_lib.lm.pretrained")
    for needed in ("course_lib", "course_lib.bert", "course_lib.core.train", "course_lib.text.collate",
                   "course_lib.data.tasks", "course_lib.wordvec.counts", "course_lib.attention.functions"):
        assert needed in bert, needed
    assert not any(m.endswith(".viz") or m.startswith("course_lib.checks") for m in bert)
    assert "course_lib.bert.model" not in lstm and "course_lib.lm.lstm" in lstm  # BERT code never retrains the LSTM


def test_the_key_covers_every_setting_and_the_device() -> None:
    base = LSTMLMSettings()
    keys = {recipe_key(base), recipe_key(dataclasses.replace(base, steps=2301)),
            recipe_key(dataclasses.replace(base, threads=2)), recipe_key(base, device="meta")}
    assert len(keys) == 4


def test_a_settings_field_of_the_wrong_type_is_refused_before_any_data_is_built() -> None:
    with pytest.raises(TypeError, match=r"ToyBertSettings\.steps must be an int, got float 1000.0.*-p steps 1000"):
        ToyBertSettings(steps=1e3)  # what papermill passes for -p steps 1e3
    with pytest.raises(TypeError, match=r"LSTMLMSettings\.lr must be a number, got str"):
        LSTMLMSettings(lr="0.02")
    with pytest.raises(TypeError, match=r"TrainConfig\.steps"):
        TrainConfig(steps=10.0)
    with pytest.raises(ValueError, match="objective must be one of"):
        ToyBertSettings(objective="nsp")


# ------------------------------------------------------------------------------ files and processes


def test_trained_once_then_loaded_and_written_with_the_users_umask(tmp_path) -> None:
    old = os.umask(0o022)
    try:
        first, history = pretrained(slow(tmp_path), device="cpu", progress=False, folder=tmp_path / "m")
        second, again = pretrained(slow(tmp_path), device="cpu", progress=False, folder=tmp_path / "m")
    finally:
        os.umask(old)
    assert runs(tmp_path) == 1 and isinstance(again, History) and again.train_loss == history.train_loss
    assert digest(first) == digest(second) and not second.training
    [entry] = (tmp_path / "m").glob("slow-*.pt")
    assert entry.stat().st_mode & 0o777 == 0o644  # not mkstemp's 0600: a class can share the cache


def test_two_processes_asking_for_the_same_missing_model_train_it_once(tmp_path) -> None:
    env = {"COURSE_LIB_CACHE": str(tmp_path / "cache")}
    log = str(tmp_path / "log.txt")
    a, b = child("slow", log, env=env), child("slow", log, env=env)
    (first, out_a), (second, out_b) = finish(a), finish(b)
    assert runs(tmp_path) == 1
    assert first == second
    assert "Another process is training" in out_a + out_b  # they did overlap: one waited on the lock


def test_a_damaged_entry_is_retrained_with_a_warning(tmp_path) -> None:
    model, _ = pretrained(slow(tmp_path), device="cpu", progress=False, folder=tmp_path)
    [entry] = tmp_path.glob("slow-*.pt")
    entry.write_bytes(entry.read_bytes()[:100])  # truncated, as by a full disk or a killed copy
    with pytest.warns(CacheWarning, match="damaged"):
        again, _ = pretrained(slow(tmp_path), device="cpu", progress=False, folder=tmp_path)
    assert runs(tmp_path) == 2 and digest(again) == digest(model)
    assert entry.stat().st_size > 100  # replaced by a whole one


def test_an_entry_that_cannot_be_read_raises_naming_it_and_is_left_alone(tmp_path, monkeypatch) -> None:
    pretrained(slow(tmp_path), device="cpu", progress=False, folder=tmp_path)
    [entry] = tmp_path.glob("slow-*.pt")
    size = entry.stat().st_size

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(entry))

    monkeypatch.setattr(torch, "load", denied)
    with pytest.raises(CacheError, match=f"{entry.name}.*cannot be read.*COURSE_LIB_CACHE"):
        pretrained(slow(tmp_path), device="cpu", progress=False, folder=tmp_path)
    assert entry.exists() and entry.stat().st_size == size and runs(tmp_path) == 1


def test_a_failed_save_returns_the_trained_model_and_says_where_to_point_the_cache(tmp_path, monkeypatch) -> None:
    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", disk_full)
    with pytest.warns(CacheWarning, match="could not be saved.*COURSE_LIB_CACHE"):
        model, history = pretrained(slow(tmp_path), device="cpu", progress=False, folder=tmp_path / "m")
    assert len(history.train_loss) == 3 and not model.training
    assert not [p for p in (tmp_path / "m").iterdir() if p.suffix in (".pt", ".tmp")]  # nothing half-written


def test_a_cache_folder_that_is_a_file_trains_without_caching_and_names_the_variable(tmp_path, monkeypatch) -> None:
    not_a_folder = tmp_path / "cache"
    not_a_folder.write_text("oops")
    monkeypatch.setenv("COURSE_LIB_CACHE", str(not_a_folder))
    with pytest.warns(CacheWarning, match="COURSE_LIB_CACHE"):
        model, history = pretrained(slow(tmp_path), device="cpu", progress=False)
    assert runs(tmp_path) == 1 and len(history.train_loss) == 3 and not_a_folder.read_text() == "oops"


def test_what_a_killed_save_left_behind_is_cleaned_up(tmp_path) -> None:
    settings = slow(tmp_path)
    name = f"{settings.name}-{recipe_key(settings, 'cpu')}.pt"
    stale = tmp_path / f".{name}.0123456789ab.tmp"  # fresh: the generic writer would keep it for an hour
    stale.write_bytes(b"half a checkpoint")
    pretrained(settings, device="cpu", progress=False, folder=tmp_path)
    assert not stale.exists() and (tmp_path / name).exists()


def test_a_read_only_shared_cache_is_read_without_a_lock(tmp_path, monkeypatch) -> None:
    pretrained(slow(tmp_path), device="cpu", progress=False, folder=tmp_path)
    import filelock

    def no_lock_file(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", "x.lock")

    monkeypatch.setattr(filelock.FileLock, "acquire", no_lock_file)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pretrained(slow(tmp_path), device="cpu", progress=False, folder=tmp_path)
    assert runs(tmp_path) == 1
