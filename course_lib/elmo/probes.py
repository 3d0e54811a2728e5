"""What the frozen biLM knows, measured: probes by layer and by direction, per-task scalar mixes,
the polysemy picture, static vectors and a model from scratch for comparison.

Everything here works on *precomputed* frozen features (``elmo_heads.layer_features``): a list of
L + 1 tensors (N, 2D), one row per word, layer 0 first. Probes are linear and trained full batch, so a
whole table takes seconds on a CPU.

- ``direction_features(layers, direction)``: the forward half, the backward half or both of the LSTM
  layers (layer 0 has no direction).
- ``learn_scalar_mix``: one ``ScalarMix`` and a linear head learned together for one task; the s_j and γ.
- ``mixed_probe_accuracy``: a probe on γ · Σ_j s_j h_j with hand-set s_j (the layer-weight explorer).
- ``within_across_cosine``: mean cosine similarity of same-sense and of different-sense token pairs.
- ``ScratchTagger`` / ``train_scratch_tagger``: a small BiLSTM tagger trained on the labelled data only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from course_lib.core import standardize_layers, train_probe
from course_lib.elmo.bilm import PAD_ID
from course_lib.elmo.scalar_mix import ScalarMix
from course_lib.text import Vocab, pad_batch


@dataclass
class MixResult:
    weights: list[float]  # s_j = softmax(w)_j, layer 0 first
    gamma: float
    accuracy: float  # of the mix + linear head on the test rows


def learn_scalar_mix(train: Sequence[torch.Tensor], y_train: torch.Tensor, test: Sequence[torch.Tensor],
                     y_test: torch.Tensor, steps: int = 200, lr: float = 0.05, seed: int = 0) -> MixResult:
    """Learn ``ScalarMix`` (w, γ) and a linear head together on standardized frozen layers, full batch."""
    train, test = standardize_layers(train, test)
    generator = torch.Generator().manual_seed(seed)
    K = int(max(y_train.max(), y_test.max())) + 1
    mix, head = ScalarMix(len(train)), nn.Linear(train[0].shape[1], K)
    with torch.no_grad():
        head.weight.copy_(torch.randn(head.weight.shape, generator=generator) * 0.01)
        head.bias.zero_()
    opt = torch.optim.Adam([*mix.parameters(), *head.parameters()], lr=lr)

    def logits(layers: Sequence[torch.Tensor]) -> torch.Tensor:
        # head(γ Σ_j s_j h_j) = γ Σ_j s_j (W h_j) + b: the same function, but the mix runs on (N, K)
        # logits instead of (N, C) features, several times faster
        return mix([F.linear(h, head.weight) for h in layers]) + head.bias

    for _ in range(steps):
        opt.zero_grad()
        F.cross_entropy(logits(train), y_train).backward()
        opt.step()
    with torch.no_grad():
        accuracy = float((logits(test).argmax(-1) == y_test).float().mean())
    return MixResult(mix.weights().tolist(), mix.gamma.item(), accuracy)


def mixed_probe_accuracy(train: Sequence[torch.Tensor], y_train: torch.Tensor, test: Sequence[torch.Tensor],
                         y_test: torch.Tensor, weights: Sequence[float], steps: int = 150, seed: int = 0) -> float:
    """Test accuracy of a linear probe on Σ_j s_j h_j (standardized layers) with hand-set weights.

    ``weights`` need not sum to 1: they are normalized (all zero is refused). γ scales every feature
    alike, and the probe standardizes its input, so γ cannot change this accuracy.
    """
    w = torch.tensor([float(x) for x in weights])
    if len(w) != len(train) or (w < 0).any() or w.sum() <= 0:
        raise ValueError(f"need {len(train)} non-negative weights, not all zero; got {list(weights)}")
    s = (w / w.sum()).tolist()
    train, test = standardize_layers(train, test)
    x_train = sum(a * h for a, h in zip(s, train, strict=True))
    x_test = sum(a * h for a, h in zip(s, test, strict=True))
    return train_probe(x_train, y_train, x_test, y_test, steps=steps, seed=seed)


def within_across_cosine(x: torch.Tensor, labels: Sequence[int], centered: bool = False) -> tuple[float, float]:
    """Mean cosine similarity over pairs of different rows with the same label, and with different labels.

    ``centered``: first subtract the mean row, so that a component every row shares (the word's own
    identity, in every sentence) does not hide how the rows differ.
    """
    labels = torch.as_tensor(labels)
    if len(set(labels.tolist())) < 2:
        raise ValueError("need rows of at least two labels")
    x = x.double()
    if centered:
        x = x - x.mean(0)
    x = F.normalize(x, dim=-1)
    sim = x @ x.T
    same = labels[:, None] == labels[None, :]
    off_diagonal = ~torch.eye(len(labels), dtype=torch.bool)
    return float(sim[same & off_diagonal].mean()), float(sim[~same].mean())


class ScratchTagger(nn.Module):
    """Word embedding -> one bidirectional LSTM -> linear: a tagger that learns from the labels alone.

    ``forward(word_ids (B, T), positions=None) -> logits (B, T, K)``, or (B, K) at ``positions`` (B,).
    """

    def __init__(self, vocab_size: int, num_labels: int, embedding_size: int = 64, hidden_size: int = 64) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_size, padding_idx=PAD_ID)
        self.lstm = nn.LSTM(embedding_size, hidden_size, batch_first=True, bidirectional=True)
        self.classifier = nn.Linear(2 * hidden_size, num_labels)

    def forward(self, word_ids: torch.Tensor, positions: torch.Tensor | None = None) -> torch.Tensor:
        lengths = (word_ids != PAD_ID).sum(1).clamp(min=1).cpu()
        packed = nn.utils.rnn.pack_padded_sequence(self.embedding(word_ids), lengths, batch_first=True,
                                                   enforce_sorted=False)  # padding never reaches a real word
        h, _ = self.lstm(packed)
        h, _ = nn.utils.rnn.pad_packed_sequence(h, batch_first=True, total_length=word_ids.shape[1])  # (B, T, 2H)
        if positions is not None:
            h = h[torch.arange(h.shape[0]), positions]  # (B, 2H)
        return self.classifier(h)


def train_scratch_tagger(vocab: Vocab, train_sentences: Sequence[Sequence[str]], train_labels: Sequence,
                         test_sentences: Sequence[Sequence[str]], test_labels: Sequence,
                         train_positions: Sequence[int] | None = None, test_positions: Sequence[int] | None = None,
                         steps: int = 300, batch_size: int = 32, lr: float = 5e-3, seed: int = 0) -> float:
    """Train a ``ScratchTagger`` on the labelled sentences only; return its test accuracy.

    Labels are one int per sentence (with positions: the word at that position) or a list of ints per
    sentence (tagging every word).
    """
    tagged = train_positions is None
    K = 1 + max(max(y) if tagged else y for y in [*train_labels, *test_labels])
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = ScratchTagger(len(vocab), K)
        generator = torch.Generator().manual_seed(seed)
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        n = len(train_sentences)
        for _ in range(steps):
            idx = torch.randint(n, (min(batch_size, n),), generator=generator).tolist()
            ids, _ = pad_batch([vocab.encode(list(train_sentences[i])) for i in idx], PAD_ID)
            if tagged:
                y, _ = pad_batch([list(train_labels[i]) for i in idx], -100)
                logits = model(ids)
            else:
                y = torch.tensor([train_labels[i] for i in idx])
                logits = model(ids, torch.tensor([train_positions[i] for i in idx]))
            loss = F.cross_entropy(logits.flatten(0, -2), y.flatten(), ignore_index=-100)
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        ids, _ = pad_batch([vocab.encode(list(s)) for s in test_sentences], PAD_ID)
        if tagged:
            y, _ = pad_batch([list(t) for t in test_labels], -100)
            pred = model(ids).argmax(-1)
            keep = y != -100
            return float((pred[keep] == y[keep]).float().mean())
        pred = model(ids, torch.tensor(list(test_positions))).argmax(-1)
        return float((pred == torch.tensor(list(test_labels))).float().mean())
