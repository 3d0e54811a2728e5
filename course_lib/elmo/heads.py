"""Using ELMo: the frozen biLM as a feature extractor, downstream heads, linear probes, the cached biLM.

- ``Elmo(bilm, num_output_representations)``: the biLM frozen, one ``ScalarMix`` per task.
- heads that read ELMo vectors (optionally beside the task's own word embeddings):
  ``TokenTagger`` (a label per word, or per chosen word: part of speech, word sense),
  ``SentenceClassifier`` (mean-pooled), ``SentencePairClassifier`` ([u; v; |u - v|; u * v]).
- ``layer_features`` / ``train_probe`` / ``probe_predictions``: precomputed frozen features and a linear
  probe trained on them (the fast path the notebooks' tables and the layer-weight explorer use).
- ``pretrained_bilm()``: the biLM of notebook 03, trained once deterministically, then read from the cache.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from course_lib.arguments import check_labels, should_check
from course_lib.elmo.bilm import PAD_ID, BiLM
from course_lib.elmo.scalar_mix import ScalarMix


class Elmo(nn.Module):
    """A frozen biLM plus ``num_output_representations`` scalar mixes (one per downstream task).

    ``forward(word_ids (B, T)) -> (list of num_output_representations tensors (B, T, 2D), mask (B, T))``.
    Only the mixes learn; the biLM stays in eval mode (no dropout) and receives no gradient.
    """

    def __init__(self, bilm: BiLM, num_output_representations: int = 1, do_layer_norm: bool = False) -> None:
        super().__init__()
        self.bilm = bilm.eval()
        for p in self.bilm.parameters():
            p.requires_grad_(False)
        L = bilm.config.num_layers + 1
        self.scalar_mixes = nn.ModuleList(ScalarMix(L, do_layer_norm) for _ in range(num_output_representations))
        self.output_size = 2 * bilm.config.hidden_size

    def train(self, mode: bool = True) -> Elmo:
        super().train(mode)
        self.bilm.eval()  # frozen means frozen: no dropout in the feature extractor either
        return self

    def forward(self, word_ids: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
        with torch.no_grad():
            layers = self.bilm.layers(word_ids)  # checks word_ids
        mask = word_ids != PAD_ID
        return [mix(layers, mask) for mix in self.scalar_mixes], mask


class _Head(nn.Module):
    """What every head shares: ELMo vectors of one task, optionally beside the task's own word embeddings."""

    def __init__(self, elmo: Elmo, task: int = 0, word_embedding_size: int = 0, dropout: float = 0.0) -> None:
        super().__init__()
        self.elmo, self.task = elmo, task
        vocab_size = elmo.bilm.config.vocab_size
        self.word_embedding = nn.Embedding(vocab_size, word_embedding_size) if word_embedding_size else None
        self.dropout = nn.Dropout(dropout)
        self.feature_size = elmo.output_size + word_embedding_size

    def _check_labels(self, labels: torch.Tensor | None, B: int) -> None:
        if labels is not None and should_check():
            check_labels(labels, self.classifier.out_features, "labels", (B,), "num_labels")

    def features(self, word_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        reps, mask = self.elmo(word_ids)
        h = reps[self.task]  # (B, T, 2D)
        if self.word_embedding is not None:
            h = torch.cat([h, self.word_embedding(word_ids)], dim=-1)  # (B, T, 2D + E)
        return self.dropout(h), mask


class TokenTagger(_Head):
    """A label per word (``positions=None``: tagging) or per chosen word (``positions`` (B,): word sense).

    ``forward(input_ids, labels=None, positions=None) -> (logits, loss)``; logits (B, T, K) or (B, K).
    Labels equal to -100 (or at padding) are ignored.
    """

    def __init__(self, elmo: Elmo, num_labels: int, task: int = 0, word_embedding_size: int = 0,
                 dropout: float = 0.0) -> None:
        super().__init__(elmo, task, word_embedding_size, dropout)
        self.classifier = nn.Linear(self.feature_size, num_labels)

    def forward(self, input_ids: torch.Tensor, labels: torch.Tensor | None = None,
                positions: torch.Tensor | None = None, **_unused) -> tuple[torch.Tensor, torch.Tensor | None]:
        h, mask = self.features(input_ids)  # checks the ids
        if should_check():
            B, T = input_ids.shape
            if positions is not None:
                check_labels(positions, T, "positions", (B,), "the sequence length T of input_ids")
            if labels is not None:
                check_labels(labels, self.classifier.out_features, "labels", (B,) if positions is not None else (B, T),
                             "num_labels", ignore_index=-100,
                             shape_name="one per sequence" if positions is not None else "the shape of input_ids")
        if positions is not None:
            h = h[torch.arange(h.shape[0], device=h.device), positions]  # (B, 2D)
        logits = self.classifier(h)
        if labels is None:
            return logits, None
        if positions is None:
            labels = labels.masked_fill(~mask, -100)
        return logits, F.cross_entropy(logits.flatten(0, -2), labels.flatten(), ignore_index=-100)


class SentenceClassifier(_Head):
    """Mean of the ELMo vectors of the real words -> K classes. ``forward(input_ids, labels=None)``."""

    def __init__(self, elmo: Elmo, num_labels: int, task: int = 0, word_embedding_size: int = 0,
                 dropout: float = 0.0) -> None:
        super().__init__(elmo, task, word_embedding_size, dropout)
        self.classifier = nn.Linear(self.feature_size, num_labels)

    def pooled(self, input_ids: torch.Tensor) -> torch.Tensor:
        h, mask = self.features(input_ids)
        m = mask[..., None].to(h.dtype)
        return (h * m).sum(1) / m.sum(1)  # (B, C)

    def forward(self, input_ids: torch.Tensor, labels: torch.Tensor | None = None, **_unused):
        logits = self.classifier(self.pooled(input_ids))  # checks the ids
        self._check_labels(labels, len(input_ids))
        return logits, None if labels is None else F.cross_entropy(logits, labels)


class SentencePairClassifier(SentenceClassifier):
    """Two sentences u, v (mean-pooled) -> [u; v; |u - v|; u * v] -> K classes."""

    def __init__(self, elmo: Elmo, num_labels: int, task: int = 0, word_embedding_size: int = 0,
                 dropout: float = 0.0) -> None:
        super().__init__(elmo, num_labels, task, word_embedding_size, dropout)
        self.classifier = nn.Linear(4 * self.feature_size, num_labels)

    def forward(self, input_ids_a: torch.Tensor, input_ids_b: torch.Tensor,
                labels: torch.Tensor | None = None, **_unused):
        u, v = self.pooled(input_ids_a), self.pooled(input_ids_b)  # checks the ids
        if len(input_ids_a) != len(input_ids_b):
            raise ValueError(f"input_ids_a has {len(input_ids_a)} sentences but input_ids_b {len(input_ids_b)}: "
                             "one pair per row")
        self._check_labels(labels, len(input_ids_a))
        logits = self.classifier(torch.cat([u, v, (u - v).abs(), u * v], dim=-1))
        return logits, None if labels is None else F.cross_entropy(logits, labels)
