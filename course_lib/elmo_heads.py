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

import dataclasses
from collections.abc import Callable, Iterator, Sequence

import torch
from torch import nn
from torch.nn import functional as F

from course_lib.elmo import PAD_ID, BiLM, BiLMConfig, ScalarMix
from course_lib.text import length_buckets, pad_batch
from course_lib.train import History, TrainConfig, config_key, fit, load_or_train


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
        mask = word_ids != PAD_ID
        with torch.no_grad():
            layers = self.bilm.layers(word_ids)
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
        h, mask = self.features(input_ids)
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
        logits = self.classifier(self.pooled(input_ids))
        return logits, None if labels is None else F.cross_entropy(logits, labels)


class SentencePairClassifier(SentenceClassifier):
    """Two sentences u, v (mean-pooled) -> [u; v; |u - v|; u * v] -> K classes."""

    def __init__(self, elmo: Elmo, num_labels: int, task: int = 0, word_embedding_size: int = 0,
                 dropout: float = 0.0) -> None:
        super().__init__(elmo, num_labels, task, word_embedding_size, dropout)
        self.classifier = nn.Linear(4 * self.feature_size, num_labels)

    def forward(self, input_ids_a: torch.Tensor, input_ids_b: torch.Tensor,
                labels: torch.Tensor | None = None, **_unused):
        u, v = self.pooled(input_ids_a), self.pooled(input_ids_b)
        logits = self.classifier(torch.cat([u, v, (u - v).abs(), u * v], dim=-1))
        return logits, None if labels is None else F.cross_entropy(logits, labels)


# ----------------------------------------------------------------------------- probes on frozen features


@torch.no_grad()
def layer_features(bilm: BiLM, sentences: Sequence[Sequence[str]], positions: Sequence[int] | None = None,
                   batch_size: int = 256) -> tuple[list[torch.Tensor], torch.Tensor]:
    """Frozen biLM features of words: L + 1 tensors (N, 2D) and the word ids (N,).

    With ``positions``: the word ``sentences[i][positions[i]]`` (one row per sentence); without: every
    word of every sentence, in order.
    """
    was_training = bilm.training
    bilm.eval()
    per_layer: list[list[torch.Tensor]] = [[] for _ in range(bilm.config.num_layers + 1)]
    words = []
    for start in range(0, len(sentences), batch_size):
        ids = bilm.encode(sentences[start : start + batch_size])
        layers = bilm.layers(ids)
        if positions is None:
            mask = ids != PAD_ID
            for j, h in enumerate(layers):
                per_layer[j].append(h[mask])
            words.append(ids[mask])
        else:
            at = torch.tensor(positions[start : start + batch_size], device=ids.device)
            rows = torch.arange(len(at), device=ids.device)
            for j, h in enumerate(layers):
                per_layer[j].append(h[rows, at])
            words.append(ids[rows, at])
    bilm.train(was_training)
    return [torch.cat(p).cpu() for p in per_layer], torch.cat(words).cpu()


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


def mix_layers(layers: Sequence[torch.Tensor], weights: Sequence[float], gamma: float = 1.0) -> torch.Tensor:
    """γ · Σ_j s_j h_j with the given (already normalized) weights s_j: features for a hand-set mix."""
    return gamma * sum(w * h for w, h in zip(weights, layers, strict=True))


# ----------------------------------------------------------------------------- training the biLM, cached


def bilm_batches(sentences: Sequence[Sequence[str]], bilm: BiLM, batch_size: int = 64, seed: int = 0
                 ) -> Callable[[], Iterator[dict]]:
    """One epoch of ``{"word_ids": (B, T)}`` per call, in length buckets, reshuffled each epoch from ``seed``."""
    vocab = bilm._words()
    encoded = [vocab.encode(list(s)) for s in sentences if len(s) > 0]
    if not encoded:
        raise ValueError("no sentences to train on")
    lengths = [len(e) for e in encoded]
    generator = torch.Generator().manual_seed(seed)

    def epoch() -> Iterator[dict]:
        for idx in length_buckets(lengths, batch_size, shuffle=True, generator=generator):
            yield {"word_ids": pad_batch([encoded[i] for i in idx], PAD_ID)[0]}

    return epoch


def bilm_train_config(steps: int = 1000, seed: int = 0, progress: bool = True) -> TrainConfig:
    """Adam at 2e-2 with warm-up, decayed linearly to 0, clipped at 1 (as the LSTM LM of notebook 02).

    On the toy world 2e-2 and 3e-2 reached the same perplexity in 800 steps; 8e-3 was clearly slower.
    """
    return TrainConfig(steps=steps, lr=2e-2, warmup_steps=100, schedule="linear", grad_clip=1.0,
                       eval_every=max(1, steps // 5), monitor="val_loss", seed=seed, progress=progress, desc="biLM")


def train_bilm(model: BiLM, train_sentences: Sequence[Sequence[str]], validation_sentences: Sequence[Sequence[str]],
               config: TrainConfig, batch_size: int = 64) -> History:
    """Train with ``course_lib.train.fit``; ``val_loss`` is the mean of the two directions' nats per token."""
    batches = bilm_batches(train_sentences, model, batch_size, seed=config.seed or 0)

    def evaluate(m: BiLM) -> dict[str, float]:
        f, b = m.perplexities(validation_sentences)
        return {"val_loss": (torch.tensor([f, b]).log().mean()).item(), "forward_ppl": f, "backward_ppl": b}

    return fit(model, batches, config, evaluate=evaluate)


def pretrained_bilm(seed: int = 0, config: BiLMConfig | None = None, steps: int = 1000, data=None,
                    progress: bool = True) -> tuple[BiLM, History]:
    """The biLM of notebook 03, trained once (deterministically), then read from the cache.

    ``data`` is a ``course_lib.lm.LMDataConfig`` (corpus, sizes, batch size). Returns ``(model in eval
    mode, history)``. The cache key covers every setting, the vocabulary and the first sentences of the
    corpus, so other settings (a deeper model, more steps) or a changed corpus train and cache another model.
    """
    from course_lib.lm import LMDataConfig, lm_vocab, load_lm_corpus, toyworld_vocab

    data = data or LMDataConfig(seed=seed)
    train_config = bilm_train_config(steps, seed=seed, progress=progress)
    corpus = lambda split, n: [list(s.tokens) for s in load_lm_corpus(data.corpus, split, data.seed, n)]  # noqa: E731
    first = [" ".join(s) for s in corpus("train", 3)]
    vocab = toyworld_vocab() if data.corpus == "toyworld" else lm_vocab(data.corpus, corpus("train", data.train_documents))
    config = dataclasses.replace(config or BiLMConfig(), vocab_size=len(vocab))

    def build() -> BiLM:
        with torch.random.fork_rng(devices=[]):  # the same initial weights wherever it is called
            torch.manual_seed(seed)
            return BiLM(config, vocab)

    def train(model: BiLM) -> History:
        held_out = corpus("validation", 200)[: data.validation_sentences]
        return train_bilm(model, corpus("train", data.train_documents), held_out, train_config, data.batch_size)

    key = config_key(config, data, dataclasses.replace(train_config, progress=True), seed, vocab.itos, first)
    model, history = load_or_train("bilm", build, train, key)
    return model.eval(), history
