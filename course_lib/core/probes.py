"""Linear probes on frozen features and the per-word majority baseline, written once for every notebook.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F


def probe_predictions(x_train: torch.Tensor, y_train: torch.Tensor, x_test: torch.Tensor, steps: int = 150,
                      lr: float = 0.05, seed: int = 0, num_classes: int | None = None) -> torch.Tensor:
    """A linear probe (logistic regression, full batch Adam) on frozen features; its (N,) test predictions.

    One probe, read on several subsets of the test set (e.g. by the side of a cue), costs one training.
    ``num_classes`` defaults to the largest training label + 1.
    """
    generator = torch.Generator().manual_seed(seed)
    mean, std = x_train.mean(0), x_train.std(0) + 1e-6  # standardize: one learning rate fits every layer
    xtr, xte = (x_train - mean) / std, (x_test - mean) / std
    K = int(y_train.max()) + 1 if num_classes is None else num_classes
    probe = nn.Linear(x_train.shape[1], K)
    with torch.no_grad():
        probe.weight.copy_(torch.randn(probe.weight.shape, generator=generator) * 0.01)
        probe.bias.zero_()
    opt = torch.optim.Adam(probe.parameters(), lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        F.cross_entropy(probe(xtr), y_train).backward()
        opt.step()
    with torch.no_grad():
        return probe(xte).argmax(-1)


def train_probe(x_train: torch.Tensor, y_train: torch.Tensor, x_test: torch.Tensor, y_test: torch.Tensor,
                steps: int = 150, lr: float = 0.05, seed: int = 0) -> float:
    """A linear probe (logistic regression, full batch Adam) on frozen features; returns test accuracy."""
    K = int(max(y_train.max(), y_test.max())) + 1
    predicted = probe_predictions(x_train, y_train, x_test, steps=steps, lr=lr, seed=seed, num_classes=K)
    return float((predicted == y_test).float().mean())


def probe_accuracy_by(x_train: torch.Tensor, y_train: torch.Tensor, x_test: torch.Tensor, y_test: torch.Tensor,
                      groups: Sequence, seed: int = 0) -> dict:
    """One linear probe, its test accuracy on each group of test rows (``groups[i]``: row i's group, e.g. the
    cue's distance), keyed in sorted order, and over all rows under the key ``"all"``."""
    if len(groups) != len(y_test):
        raise ValueError(f"groups has {len(groups)} entries for {len(y_test)} test rows: give one group per row")
    K = int(max(y_train.max(), y_test.max())) + 1
    correct = (probe_predictions(x_train, y_train, x_test, seed=seed, num_classes=K) == y_test).float()
    out = {g: float(correct[[i for i, h in enumerate(groups) if h == g]].mean()) for g in sorted(set(groups))}
    return {**out, "all": float(correct.mean())}


def standardize_layers(train: Sequence[torch.Tensor], test: Sequence[torch.Tensor]
                       ) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Each layer to zero mean, unit variance per feature, with the training rows' statistics.

    The layers of a biLM have very different scales (the token layer is small, the residual LSTM
    layers grow); standardized, a mix weight s_j says how much of layer j is used, not how loud it is.
    """
    out_train, out_test = [], []
    for a, b in zip(train, test, strict=True):
        mean, std = a.mean(0), a.std(0) + 1e-6
        out_train.append((a - mean) / std)
        out_test.append((b - mean) / std)
    return out_train, out_test


def majority_accuracy(words_train: Sequence[str], y_train: torch.Tensor, words_test: Sequence[str],
                      y_test: torch.Tensor) -> float:
    """Accuracy of predicting each word's most frequent training label (what a static vector can do)."""
    counts: dict[str, dict[int, int]] = {}
    for w, y in zip(words_train, y_train.tolist(), strict=True):
        counts.setdefault(w, {}).setdefault(y, 0)
        counts[w][y] += 1
    best = {w: max(c, key=c.get) for w, c in counts.items()}
    fallback = int(torch.mode(y_train).values)
    hits = [best.get(w, fallback) == y for w, y in zip(words_test, y_test.tolist(), strict=True)]
    return sum(hits) / len(hits)
