"""The course's one training loop: progress bar, evaluation, early stopping, checkpoints, history.

Every model of the course returns ``(output, loss)``; ``fit`` needs nothing else. What differs
between models lives in a *step function* (``step(model, batch, state) -> (loss, state)``): the
default calls ``model(**batch)`` or ``model(*batch)``; the language models pass a hidden state from
one batch to the next for truncated back-propagation through time.

>>> history = fit(model, batches, TrainConfig(steps=200, lr=1e-3), evaluate=lambda m: {"val_loss": ...})
>>> history.plot()
"""

from __future__ import annotations

import copy
import dataclasses
import math
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from course_lib.arguments import check_fields
from course_lib.base import get_device
from course_lib.files import atomic_file

Batch = Any


StepFn = Callable[[nn.Module, Batch, Any], tuple[torch.Tensor, Any]]


@dataclass
class TrainConfig:
    steps: int = 1000  # optimizer steps in total: the budget of a run, the same on every machine
    lr: float = 1e-3  # peak learning rate (AdamW)
    weight_decay: float = 0.0
    betas: tuple[float, float] = (0.9, 0.999)
    warmup_steps: int = 0  # linear warm-up from 0 to lr
    schedule: str = "constant"  # after warm-up: "constant", "linear" (to 0) or "cosine" (to 0)
    grad_clip: float | None = 1.0  # max global gradient norm; None to turn off
    eval_every: int = 100  # steps between calls of `evaluate` (it also runs at the end)
    monitor: str = "val_loss"  # the metric early stopping and the best checkpoint follow
    mode: str = "min"  # "min" when lower is better (losses), "max" for accuracies
    patience: int | None = None  # stop after this many evaluations without improvement
    restore_best: bool = True  # end with the weights of the best evaluation
    checkpoint: str | Path | None = None  # where the best weights are written (atomically)
    device: str | torch.device = "auto"
    seed: int | None = 0  # seeds torch before training starts; None leaves the generators alone
    progress: bool = True  # a progress bar (course_lib.progress: live in a notebook, stored finished)
    desc: str = "training"

    def __post_init__(self) -> None:
        check_fields(self)  # e.g. steps=1e3 from papermill: refused here, not deep inside fit
        if self.steps < 1:
            raise ValueError(f"steps must be >= 1, got {self.steps}")
        if self.schedule not in ("constant", "linear", "cosine"):
            raise ValueError(f"schedule must be 'constant', 'linear' or 'cosine', got {self.schedule!r}")
        if self.mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {self.mode!r}")
        if self.eval_every < 1:
            raise ValueError(f"eval_every must be >= 1, got {self.eval_every}")


@dataclass
class History:
    """What happened during ``fit``: the plots and the notebooks' tables read it."""

    steps: list[int] = field(default_factory=list)  # step of each recorded training loss
    train_loss: list[float] = field(default_factory=list)
    evals: list[dict] = field(default_factory=list)  # {"step": s, metric: value, ...}
    best: dict | None = None  # the best evaluation by `monitor`
    seconds: float = 0.0
    stopped_early: bool = False

    def metric(self, name: str) -> tuple[list[int], list[float]]:
        rows = [e for e in self.evals if name in e]
        return [e["step"] for e in rows], [e[name] for e in rows]

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> History:
        return cls(**data)

    def plot(self, metrics: Iterable[str] = ("val_loss",), ax=None, smooth: int = 20):
        """Training loss (smoothed) and the evaluated metrics against the step."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(5, 3), dpi=80)
        if self.train_loss:
            k = max(1, min(smooth, len(self.train_loss) // 5 or 1))
            loss = torch.tensor(self.train_loss)
            smoothed = loss.unfold(0, k, 1).mean(1) if len(loss) >= k else loss
            ax.plot(self.steps[k - 1:] if len(loss) >= k else self.steps, smoothed.tolist(), label="train loss")
        for name in metrics:
            steps, values = self.metric(name)
            if steps:
                ax.plot(steps, values, "o-", ms=3, label=name)
        ax.set_xlabel("step")
        ax.legend(fontsize=8)
        return ax


def default_step(model: nn.Module, batch: Batch, state: Any) -> tuple[torch.Tensor, Any]:
    """Call the model on the batch and return its loss: ``model(**batch)`` or ``model(*batch)``."""
    _, loss = model(**batch) if isinstance(batch, dict) else model(*batch)
    if loss is None:
        raise ValueError("the model returned loss=None: the batch must include the targets")
    return loss, state


def to_device(batch: Batch, device: torch.device) -> Batch:
    """Move every tensor of a batch (a tensor, tuple, list or dict of them) to ``device``."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, dict):
        return {k: to_device(v, device) for k, v in batch.items()}
    if isinstance(batch, (tuple, list)):
        return type(batch)(to_device(v, device) for v in batch)
    return batch


def batch_stream(batches: Iterable | Callable[[], Iterable]) -> Iterator:
    """Cycle through the batches for ever, starting a new epoch (a new iterator) each time."""
    while True:
        empty = True
        for batch in batches() if callable(batches) else batches:
            empty = False
            yield batch
        if empty:
            raise ValueError("the batch iterable is empty: there is nothing to train on")


def learning_rate(config: TrainConfig, step: int) -> float:
    """The learning rate at ``step`` (0-based): linear warm-up, then the schedule."""
    if step < config.warmup_steps:
        return config.lr * (step + 1) / config.warmup_steps
    if config.schedule == "constant":
        return config.lr
    progress = (step - config.warmup_steps) / max(1, config.steps - config.warmup_steps)
    if config.schedule == "linear":
        return config.lr * max(0.0, 1.0 - progress)
    return config.lr * 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


def fit(
    model: nn.Module,
    batches: Iterable | Callable[[], Iterable],
    config: TrainConfig,
    evaluate: Callable[[nn.Module], dict[str, float]] | None = None,
    step: StepFn = default_step,
    optimizer: torch.optim.Optimizer | None = None,
) -> History:
    """Train ``model`` for ``config.steps`` optimizer steps and return the ``History``.

    ``batches``: a re-iterable (list, DataLoader) or a function returning a fresh iterable per epoch.
    ``evaluate(model) -> {"val_loss": ...}`` runs every ``eval_every`` steps in eval mode without
    gradients. Only parameters with ``requires_grad`` are optimized (frozen parts stay frozen).
    """
    if config.seed is not None:
        torch.manual_seed(config.seed)
    device = get_device(config.device)
    model.to(device)
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("the model has no trainable parameters (all have requires_grad=False)")
    optimizer = optimizer or torch.optim.AdamW(params, lr=config.lr, betas=config.betas,
                                               weight_decay=config.weight_decay)
    history, tracker = History(), _BestTracker(config)
    bar = _progress(config)
    state, stream, start = None, batch_stream(batches), time.perf_counter()
    for i in range(config.steps):
        model.train()
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(config, i)
        loss, state = step(model, to_device(next(stream), device), state)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if config.grad_clip is not None:
            nn.utils.clip_grad_norm_(params, config.grad_clip)
        optimizer.step()
        history.steps.append(i + 1)
        history.train_loss.append(loss.item())
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.3f}", refresh=False)
        if evaluate is not None and ((i + 1) % config.eval_every == 0 or i + 1 == config.steps):
            if tracker.record(model, history, i + 1, run_evaluation(model, evaluate)):
                history.stopped_early = True
                break
    if bar is not None:
        bar.close()
    history.seconds = time.perf_counter() - start
    tracker.finish(model)
    return history


def run_evaluation(model: nn.Module, evaluate: Callable[[nn.Module], dict[str, float]]) -> dict[str, float]:
    was_training = model.training
    model.eval()
    with torch.no_grad():
        metrics = {k: float(v) for k, v in evaluate(model).items()}
    model.train(was_training)
    return metrics


class _BestTracker:
    """Keeps the best evaluation (and its weights) and decides when to stop early."""

    def __init__(self, config: TrainConfig) -> None:
        self.config, self.best_value, self.best_state, self.bad_evals = config, None, None, 0

    def record(self, model: nn.Module, history: History, step: int, metrics: dict[str, float]) -> bool:
        history.evals.append({"step": step, **metrics})
        value = metrics.get(self.config.monitor)
        if value is None:
            return False
        better = self.best_value is None or (value < self.best_value if self.config.mode == "min"
                                             else value > self.best_value)
        if better:
            self.best_value, self.bad_evals = value, 0
            history.best = {"step": step, **metrics}
            if self.config.restore_best:
                self.best_state = copy.deepcopy(model.state_dict())
            if self.config.checkpoint is not None:
                save_checkpoint(model, self.config.checkpoint, extra={"step": step, "metrics": metrics})
        else:
            self.bad_evals += 1
        return self.config.patience is not None and self.bad_evals >= self.config.patience

    def finish(self, model: nn.Module) -> None:
        if self.config.restore_best and self.best_state is not None:
            model.load_state_dict(self.best_state)


def _progress(config: TrainConfig):
    if not config.progress:
        return None
    from course_lib.progress import progress_bar

    return progress_bar(config.steps, config.desc)


def save_checkpoint(model: nn.Module, path: str | Path, extra: dict | None = None) -> Path:
    """Write ``{"state_dict": ..., "extra": ...}`` to ``path`` atomically (``course_lib.files.atomic_file``).

    A uniquely named temp file beside ``path``, created with the user's umask, replaces ``path`` only when
    the whole checkpoint is written; on any failure ``path`` is untouched and the temp file removed.
    """
    path = Path(path)
    with atomic_file(path, what="checkpoint", make_parents=True) as f:
        torch.save({"state_dict": model.state_dict(), "extra": extra or {}}, f)
    return path


def load_checkpoint(model: nn.Module, path: str | Path, map_location: str | torch.device = "cpu") -> dict:
    """Load weights saved by ``save_checkpoint`` (``weights_only=True``); returns the ``extra`` dict.

    A file that cannot be read at all (missing, permissions, I/O) raises its ``OSError``; a file that is not
    a checkpoint (truncated, another format) or whose keys or shapes do not match the model raises one
    ``ValueError`` that names the file and the missing, unexpected and mismatched keys.
    """
    path = Path(path)
    try:
        data = torch.load(path, map_location=map_location, weights_only=True)
    except OSError:
        raise
    except Exception as err:  # truncated zip, a pickle that is not ours, ...
        raise ValueError(f"{path} is not a readable checkpoint ({type(err).__name__}: {err}); "
                         "delete it and train again") from err
    if not isinstance(data, dict) or "state_dict" not in data:
        raise ValueError(f"{path} is not a course checkpoint: expected a dict with a 'state_dict' entry")
    check_state_dict(model, data["state_dict"], source=str(path))
    model.load_state_dict(data["state_dict"])
    return data.get("extra", {})


def check_state_dict(model: nn.Module, state: dict[str, torch.Tensor], source: str = "state_dict") -> None:
    """Raise one ``ValueError`` naming every missing, unexpected and wrongly shaped key."""
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    shapes = [f"{k}: model {tuple(own[k].shape)} vs {tuple(state[k].shape)}"
              for k in sorted(set(own) & set(state)) if own[k].shape != state[k].shape]
    if missing or unexpected or shapes:
        parts = [f"missing keys: {', '.join(missing)}" if missing else "",
                 f"unexpected keys: {', '.join(unexpected)}" if unexpected else "",
                 f"shape mismatches: {'; '.join(shapes)}" if shapes else ""]
        raise ValueError(f"{source} does not fit {type(model).__name__}: " + " | ".join(p for p in parts if p))
