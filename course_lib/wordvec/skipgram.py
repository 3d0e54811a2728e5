"""Skip-gram with negative sampling (word2vec), trained from scratch with hand-written gradients.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from course_lib.base import get_device
from course_lib.core import History, TrainConfig, learning_rate
from course_lib.wordvec.counts import Sentences, build_vocabulary, corpus_ids, sentences_of
from course_lib.wordvec.vectors import WordVectors

if TYPE_CHECKING:
    from course_lib.data.corpus import Corpus


@dataclass
class SkipGramConfig:
    """Skip-gram with negative sampling; the defaults are word2vec's, sized for the toy world."""

    dim: int = 100  # vector size
    window: int = 5  # largest distance to a context word; each centre draws its own window in 1..window
    negatives: int = 5  # noise words per (centre, context) pair
    ns_exponent: float = 0.75  # noise distribution ∝ count^0.75
    subsample: float = 1e-3  # frequent-word subsampling threshold t (0 turns it off)
    min_count: int = 5  # rarer words are dropped before training
    epochs: int = 5  # passes over the corpus
    batch_size: int = 4096  # (centre, context) pairs updated together in one SGD step (larger: faster, less stable)
    lr: float = 0.025  # word2vec's learning rate per pair (plain SGD), decayed linearly to ~0
    seed: int = 0
    device: str = "auto"
    threads: int | None = 1  # torch CPU threads during training (None: torch's setting); 1 is fastest here

    @classmethod
    def tiny(cls) -> SkipGramConfig:
        return cls(dim=8, window=2, negatives=3, min_count=1, subsample=0.0, epochs=20, batch_size=64,
                   lr=0.05)

    def __post_init__(self) -> None:
        for name in ("dim", "window", "negatives", "min_count", "epochs", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.subsample < 0 or self.lr <= 0:
            raise ValueError(f"need subsample >= 0 and lr > 0, got {self.subsample}, {self.lr}")


def keep_probabilities(counts: np.ndarray, threshold: float) -> np.ndarray:
    """word2vec's subsampling: keep a token of a word with frequency f with p = (√(f/t) + 1) · t/f (at most 1)."""
    if threshold <= 0:
        return np.ones(len(counts))
    f = counts / counts.sum()
    return np.minimum(1.0, (np.sqrt(f / threshold) + 1) * threshold / f)


def noise_distribution(counts: np.ndarray, exponent: float = 0.75) -> np.ndarray:
    """p(noise word) ∝ count^0.75: rare words are drawn more often than their frequency."""
    weights = counts.astype(np.float64) ** exponent
    return weights / weights.sum()


def sgns_loss(center: torch.Tensor, context: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """Mean negative-sampling loss; center (B, C), context (B, C), noise (B, K, C).

    -log σ(u_o · v_c) - Σ_k log σ(-u_k · v_c), averaged over the B pairs.
    """
    positive = (center * context).sum(-1)  # (B,)
    negative = torch.bmm(noise, center.unsqueeze(-1)).squeeze(-1)  # (B, K)
    return -(F.logsigmoid(positive) + F.logsigmoid(-negative).sum(-1)).mean()


def sgns_gradients(center: torch.Tensor, outputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The loss of each pair and its gradients, by hand; center (B, C), outputs (B, 1 + K, C).

    ``outputs[:, 0]`` is the true context u_o, ``outputs[:, 1:]`` the K noise words u_k. Each score
    s = u · v_c has a label (1 for the context, 0 for noise) and the loss -log σ(±s), whose derivative
    is simply ``σ(s) - label``. The chain rule through s = u · v_c then gives

        d loss / d v_c = Σ_j (σ(s_j) - label_j) u_j        d loss / d u_j = (σ(s_j) - label_j) v_c

    Returns the (B,) losses, the (B, C) gradient of the centres and the (B, 1 + K, C) gradient of the
    outputs: each pair's own gradient, i.e. the gradient of the loss *summed* over the batch
    (``sgns_loss`` is its mean, so its autograd gradient is these divided by B).
    """
    scores = torch.bmm(outputs, center.unsqueeze(-1)).squeeze(-1)  # (B, 1 + K)
    error = torch.sigmoid(scores)  # d loss / d score = σ(s) - label: label 0 for noise ...
    error[:, 0] -= 1  # ... and 1 for the true context
    d_center = torch.bmm(error.unsqueeze(1), outputs).squeeze(1)  # (B, C)
    d_outputs = error.unsqueeze(-1) * center.unsqueeze(1)  # (B, 1 + K, C)
    loss = -F.logsigmoid(scores[:, 0]) - F.logsigmoid(-scores[:, 1:]).sum(-1)  # (B,)
    return loss, d_center, d_outputs


class SkipGram(nn.Module):
    """Two tables of V vectors: ``in_vectors`` (the word vectors we keep) and ``out_vectors`` (contexts)."""

    def __init__(self, vocab_size: int, dim: int) -> None:
        super().__init__()
        self.in_vectors = nn.Embedding(vocab_size, dim)
        self.out_vectors = nn.Embedding(vocab_size, dim)
        nn.init.uniform_(self.in_vectors.weight, -1 / dim, 1 / dim)  # gensim's initialisation (word2vec.c: ±0.5 / dim)
        nn.init.zeros_(self.out_vectors.weight)

    def forward(self, center: torch.Tensor, context: torch.Tensor,
                noise: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """center, context (B,) ids; noise (B, K) ids. Returns the (B,) pair scores u_o · v_c and the loss."""
        v = self.in_vectors(center)  # (B, C)
        u = self.out_vectors(context)  # (B, C)
        scores = (v * u).sum(-1)
        loss = None if noise is None else sgns_loss(v, u, self.out_vectors(noise))
        return scores, loss

    @torch.no_grad()
    def sgd_step(self, center: torch.Tensor, context: torch.Tensor, noise: torch.Tensor, lr: float,
                 method: str = "auto") -> float:
        """word2vec's update of one batch: only the rows of the words in it move. Returns the mean loss.

        The gradients come from ``sgns_gradients``, not from autograd: a batch touches B · (2 + K) rows
        of the two (V, C) tables, and ``index_add_`` changes just those. A word that occurs several
        times in the batch gets the sum of its updates (close to word2vec's one-after-the-other updates
        while the steps are small; too large a batch or lr makes a frequent word overshoot).
        ``method="table"`` computes the very same update with three (V, V)-sized matrix products, which
        is faster for a small vocabulary; ``"auto"`` picks it when V² ≤ 64 · B · (1 + K).
        """
        words = torch.cat([context.unsqueeze(1), noise], dim=1)  # (B, 1 + K): the context, then K noise words
        vocab_size, dim = self.in_vectors.weight.shape
        if method == "table" or (method == "auto" and vocab_size**2 <= 64 * words.numel()):
            return self._sgd_step_table(center, words, lr)
        if method not in ("auto", "pairs"):
            raise ValueError(f"method must be 'auto', 'pairs' or 'table', got {method!r}")
        v = self.in_vectors.weight.index_select(0, center)  # (B, C)
        u = self.out_vectors.weight.index_select(0, words.view(-1)).view(*words.shape, dim)  # (B, 1 + K, C)
        loss, d_center, d_outputs = sgns_gradients(v, u)
        self.in_vectors.weight.index_add_(0, center, d_center, alpha=-lr)
        self.out_vectors.weight.index_add_(0, words.view(-1), d_outputs.view(-1, dim), alpha=-lr)
        return loss.mean().item()

    def _sgd_step_table(self, center: torch.Tensor, words: torch.Tensor, lr: float) -> float:
        """``sgd_step`` through (V, V) tables: all scores S = V Uᵀ at once, then the summed gradients.

        Every pair's error σ(s) - label is added into cell (centre, word) of a (V, V) table E; the summed
        gradients of ``sgns_gradients`` are then E U for the centres and Eᵀ V for the outputs. Three
        matrix products instead of B · (1 + K) small row operations: much faster when V is small.
        """
        W_in, W_out = self.in_vectors.weight, self.out_vectors.weight
        V = len(W_in)
        cells = (center.unsqueeze(1) * V + words).view(-1)  # (B (1 + K),) cell of each score in the table
        scores = (W_in @ W_out.T).view(-1)[cells].view(words.shape)  # (B, 1 + K)
        error = torch.sigmoid(scores)
        error[:, 0] -= 1  # σ(s) - label
        table = torch.zeros(V * V, dtype=W_in.dtype, device=W_in.device).index_add_(0, cells, error.view(-1))
        table = table.view(V, V)
        d_in, d_out = table @ W_out, table.T @ W_in  # both from the weights before the step
        W_in.sub_(d_in, alpha=lr)
        W_out.sub_(d_out, alpha=lr)
        loss = -F.logsigmoid(scores[:, 0]) - F.logsigmoid(-scores[:, 1:]).sum(-1)
        return loss.mean().item()


class SkipGramData:
    """A corpus as word ids, and per epoch the shuffled (centre, context, noise) batches of skip-gram.

    Each epoch draws anew which frequent tokens are subsampled away and each centre's window size
    (uniform in 1..window, so near words count more), then pairs every centre with the words of its
    window within its sentence. Everything is vectorised: no Python loop runs per pair.
    """

    def __init__(self, corpus: Corpus | Sentences, config: SkipGramConfig) -> None:
        sentences = sentences_of(corpus)
        self.config = config
        self.words, self.counts = build_vocabulary(sentences, config.min_count)
        self.index = {w: i for i, w in enumerate(self.words)}
        self.ids, self.sentence = corpus_ids(sentences, self.index)
        self.keep = keep_probabilities(self.counts, config.subsample)
        noise = noise_distribution(self.counts, config.ns_exponent)
        # a table in which word w fills a share p(w) of the slots: a noise draw is one random index
        self.noise_table = torch.from_numpy(np.repeat(np.arange(len(noise)), np.round(noise * 1e6).astype(int)))
        self.num_tokens = len(self.ids)
        self._last: tuple[int, tuple[np.ndarray, np.ndarray]] | None = None  # the pairs of the last epoch asked

    def pairs(self, epoch: int) -> tuple[np.ndarray, np.ndarray]:
        """(P,) centre ids and (P,) context ids of one epoch, in a seeded random order."""
        if self._last is not None and self._last[0] == epoch:
            return self._last[1]
        rng = np.random.default_rng([self.config.seed, epoch])
        kept = rng.random(len(self.ids)) < self.keep[self.ids]
        ids, sent = self.ids[kept], self.sentence[kept]
        reach = rng.integers(1, self.config.window + 1, size=len(ids))  # each centre's window
        centers, contexts = [], []
        for offset in range(1, self.config.window + 1):
            same = sent[offset:] == sent[:-offset]
            left, right = ids[:-offset], ids[offset:]
            forward = same & (reach[:-offset] >= offset)  # the left word is the centre
            backward = same & (reach[offset:] >= offset)  # the right word is the centre
            centers += [left[forward], right[backward]]
            contexts += [right[forward], left[backward]]
        center, context = np.concatenate(centers), np.concatenate(contexts)
        order = rng.permutation(len(center))
        self._last = (epoch, (center[order], context[order]))
        return self._last[1]

    def batches(self, epoch: int) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        """(center (B,), context (B,), noise (B, K)) batches of one epoch."""
        center, context = (torch.from_numpy(a) for a in self.pairs(epoch))
        generator = torch.Generator().manual_seed(self.config.seed * 1000 + epoch)
        slots = torch.randint(len(self.noise_table), (len(center), self.config.negatives), generator=generator)
        noise = self.noise_table[slots]  # the epoch's noise words at once: one draw instead of one per batch
        B = self.config.batch_size
        for start in range(0, len(center), B):
            yield center[start : start + B], context[start : start + B], noise[start : start + B]

    def epochs(self) -> Iterator[Iterator]:
        """One fresh batch iterator per epoch (``train.fit`` can cycle through them)."""
        epoch = 0
        while True:
            yield self.batches(epoch)
            epoch += 1

    def steps_per_epoch(self) -> int:
        return max(1, math.ceil(len(self.pairs(0)[0]) / self.config.batch_size))


def train_skipgram(corpus: Corpus | Sentences, config: SkipGramConfig | None = None, progress: bool = True,
                   data: SkipGramData | None = None) -> tuple[WordVectors, SkipGram, History]:
    """Train skip-gram with negative sampling the way word2vec does: plain SGD with hand-written gradients.

    The word vectors are the rows of ``in_vectors``. ``data`` reuses a prepared ``SkipGramData``.

    This loop stands outside ``train.fit`` on purpose: the hand-written SGD update of the rows a batch
    uses *is* word2vec's idea. ``fit`` would back-propagate through autograd and run AdamW over both
    whole (V, C) tables at every step, several times slower; the loop below keeps what ``fit`` gives
    the notebooks (a progress bar, the linear decay of ``train.learning_rate``, a ``History`` with the loss
    of every step for ``history.plot()``).
    """
    config = config or SkipGramConfig()
    data = data or SkipGramData(corpus, config)
    device = get_device(config.device)
    torch.manual_seed(config.seed)
    model = SkipGram(len(data.words), config.dim).to(device)
    # the schedule runs over the steps of all epochs; the number of pairs varies a little per epoch
    # (subsampling and windows are drawn anew), so epoch 0's count stands for all and the rate stops at
    # 0.01 % of its peak, as word2vec's min_alpha does
    schedule = TrainConfig(steps=config.epochs * data.steps_per_epoch(), lr=config.lr, schedule="linear")
    history, bar = History(), None
    if progress:
        from course_lib.progress import progress_bar

        bar = progress_bar(schedule.steps, "skip-gram")
    # The operations of a step are small (tables of a few MB at most): on a CPU one thread runs them
    # faster than two, whose hand-offs cost more than the work they share, above all on a busy machine.
    threads = torch.get_num_threads()
    if config.threads is not None:
        torch.set_num_threads(config.threads)
    start, step = time.perf_counter(), 0
    try:
        for epoch in range(config.epochs):
            for batch in data.batches(epoch):
                center, context, noise = (t.to(device) for t in batch)
                lr = max(learning_rate(schedule, step), 1e-4 * config.lr)
                loss = model.sgd_step(center, context, noise, lr)
                if not math.isfinite(loss):
                    raise FloatingPointError(
                        f"skip-gram diverged at step {step + 1} (loss {loss}): a frequent word gets hundreds of "
                        f"updates per batch, summed; lower lr ({config.lr}) or batch_size ({config.batch_size})")
                step += 1
                history.steps.append(step)
                history.train_loss.append(loss)
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(loss=f"{loss:.3f}", refresh=False)
    finally:
        torch.set_num_threads(threads)
        if bar is not None:
            bar.close()
    history.seconds = time.perf_counter() - start
    return WordVectors(data.words, model.in_vectors.weight.detach().cpu().clone()), model, history
