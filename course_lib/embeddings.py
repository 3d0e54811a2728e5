"""Word vectors: one-hot, co-occurrence counts -> PPMI -> SVD, skip-gram with negative sampling.

Every method ends in the same ``WordVectors`` object (one row per word *type*), which answers the
questions of notebook 01: neighbours, similarities, analogies, evaluation sets, a 2-D picture.

>>> counts = cooccurrence_counts([["the", "cow", "sleeps"], ["the", "pig", "sleeps"]], window=1)
>>> vectors = ppmi_svd([["the", "cow", "sleeps"], ["the", "pig", "sleeps"]], dim=2, window=1)
>>> vectors.most_similar("cow", k=1)                    # doctest: +SKIP
[('pig', 1.0)]

Skip-gram (Mikolov et al., 2013) trains two tables: ``in_vectors`` (the word vectors) and
``out_vectors`` (the vectors of the same words as contexts), so that a true (centre, context) pair
scores high and ``negatives`` noise words drawn from unigram^0.75 score low:
``loss = -log σ(u_o · v_c) - Σ_k log σ(-u_k · v_c)``. Training is word2vec's: plain SGD with the
gradients written out by hand (``sgns_gradients``), applied to just the rows a batch uses.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from course_lib.base import get_device
from course_lib.train import History, TrainConfig, learning_rate

if TYPE_CHECKING:
    from course_lib.data.corpus import Corpus

__all__ = [
    "SkipGram", "SkipGramConfig", "SkipGramData", "WordVectors", "build_vocabulary", "cooccurrence_counts",
    "keep_probabilities", "noise_distribution", "one_hot", "ppmi", "ppmi_svd", "sentences_of", "sgns_gradients",
    "sgns_loss", "svd_vectors", "train_skipgram",
]

Sentences = Iterable[Sequence[str]]


# ----------------------------------------------------------------------------- corpus -> ids


def sentences_of(corpus: Corpus | Sentences) -> list[list[str]]:
    """Token lists from a ``Corpus`` (its sentences) or from any iterable of token sequences."""
    return [list(getattr(s, "tokens", s)) for s in corpus]


def build_vocabulary(sentences: Sentences, min_count: int = 1) -> tuple[list[str], np.ndarray]:
    """Words seen at least ``min_count`` times, most frequent first (ties by word), and their counts."""
    if min_count < 1:
        raise ValueError(f"min_count must be >= 1, got {min_count}")
    counts = Counter(w for s in sentences for w in s)
    words = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
    if not words:
        raise ValueError(f"no word occurs at least min_count={min_count} times: lower min_count or add text")
    return words, np.array([counts[w] for w in words], dtype=np.int64)


def encode_sentences(sentences: Sentences, index: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """(N,) word ids of every known token, in order, and (N,) the sentence each comes from.

    Unknown words are dropped before windows are taken, as word2vec does.
    """
    ids, sent = [], []
    for k, s in enumerate(sentences):
        known = [index[w] for w in s if w in index]
        ids.extend(known)
        sent.extend([k] * len(known))
    return np.array(ids, dtype=np.int64), np.array(sent, dtype=np.int64)


# ----------------------------------------------------------------------------- one-hot and counts


def one_hot(ids: torch.Tensor | Sequence[int], vocab_size: int) -> torch.Tensor:
    """(..., V) float one-hot rows: every two distinct words are orthogonal, at distance √2."""
    return F.one_hot(torch.as_tensor(ids, dtype=torch.long), vocab_size).float()


def cooccurrence_counts(sentences: Sentences, window: int = 2, words: Sequence[str] | None = None,
                        min_count: int = 1) -> tuple[torch.Tensor, list[str]]:
    """(V, V) symmetric counts of word pairs at most ``window`` apart within a sentence, and the words.

    ``cooccurrence_counts([["a", "b", "c"]], window=1)`` counts (a, b) and (b, c) once each way.
    """
    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    sentences = sentences_of(sentences)
    if words is None:
        words, _ = build_vocabulary(sentences, min_count)
    index = {w: i for i, w in enumerate(words)}
    ids, sent = encode_sentences(sentences, index)
    V = len(words)
    flat = np.zeros(V * V, dtype=np.float64)
    for offset in range(1, window + 1):
        same = sent[offset:] == sent[:-offset]
        a, b = ids[:-offset][same], ids[offset:][same]
        flat += np.bincount(a * V + b, minlength=V * V) + np.bincount(b * V + a, minlength=V * V)
    return torch.from_numpy(flat.reshape(V, V)), list(words)


def ppmi(counts: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    """Positive pointwise mutual information: max(0, log p(w, c) / (p(w) p(c))), 0 where a count is 0.

    ``alpha < 1`` smooths the context distribution (p(c) ∝ count(c)^alpha), as Levy et al. (2015) do
    with 0.75. Rows or columns with no counts give zeros, never NaN.
    """
    counts = counts.double()
    total = counts.sum()
    if total <= 0:
        return torch.zeros_like(counts)
    p_wc = counts / total
    p_w = counts.sum(1, keepdim=True) / total
    context = counts.sum(0, keepdim=True) ** alpha
    p_c = context / context.sum()
    with torch.no_grad():
        pmi = torch.log(p_wc / (p_w * p_c))
    return torch.where(counts > 0, pmi.clamp(min=0), torch.zeros_like(pmi))


def svd_vectors(matrix: torch.Tensor, dim: int, power: float = 0.5) -> torch.Tensor:
    """(V, dim) rows of U_k Σ_k^power from the truncated SVD (power 0.5 splits Σ between words and contexts)."""
    if not 1 <= dim <= min(matrix.shape):
        raise ValueError(f"dim must be in 1..{min(matrix.shape)}, got {dim}")
    if min(matrix.shape) > 2000:  # a randomized truncated SVD: the full one of a large matrix takes minutes
        U, S, _ = torch.svd_lowrank(matrix.double(), q=min(dim + 20, min(matrix.shape)), niter=6)
    else:
        U, S, _ = torch.linalg.svd(matrix.double(), full_matrices=False)
    U = U[:, :dim] * torch.where(U[:, :dim].sum(0) < 0, -1.0, 1.0)  # fix each column's sign: deterministic
    return (U * S[:dim] ** power).float()


def ppmi_svd(corpus: Corpus | Sentences, dim: int = 50, window: int = 2, min_count: int = 1,
             alpha: float = 0.75) -> WordVectors:
    """Count-based word vectors: window co-occurrence counts -> PPMI -> truncated SVD."""
    counts, words = cooccurrence_counts(corpus, window, min_count=min_count)
    return WordVectors(words, svd_vectors(ppmi(counts, alpha), min(dim, len(words))))


# ----------------------------------------------------------------------------- skip-gram


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
        self.ids, self.sentence = encode_sentences(sentences, self.index)
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
    the notebooks (a tqdm bar, the linear decay of ``train.learning_rate``, a ``History`` with the loss
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
        from tqdm.auto import tqdm

        bar = tqdm(total=schedule.steps, desc="skip-gram", leave=True, mininterval=0.5)
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


# ----------------------------------------------------------------------------- WordVectors


@dataclass
class SimilarityResult:
    spearman: float  # rank correlation of cosine and human scores over the covered pairs (0.0 if < 2)
    coverage: float  # share of pairs whose two words have vectors
    covered: int
    total: int


@dataclass
class AnalogyResult:
    accuracy: float  # share of covered questions answered exactly (0.0 if none is covered)
    coverage: float  # share of questions whose four words have vectors
    covered: int
    total: int
    by_section: dict[str, float]  # accuracy per family / section over its covered questions


class WordVectors:
    """One vector per word type, whatever trained it (one-hot, PPMI-SVD, skip-gram, gensim, a text file).

    >>> wv = WordVectors(["cow", "pig", "boat"], torch.tensor([[1.0, 0.1], [0.9, 0.2], [0.0, 1.0]]))
    >>> wv.most_similar("cow", k=1)[0][0]
    'pig'
    """

    def __init__(self, words: Sequence[str], vectors: torch.Tensor | np.ndarray) -> None:
        vectors = torch.as_tensor(vectors, dtype=torch.float32)
        if vectors.ndim != 2 or vectors.shape[0] != len(words):
            raise ValueError(f"need a (V, C) matrix with one row per word: {len(words)} words, "
                             f"vectors of shape {tuple(vectors.shape)}")
        self.words = list(words)
        self.index = {w: i for i, w in enumerate(self.words)}
        if len(self.index) != len(self.words):
            raise ValueError("a word occurs twice in the vocabulary")
        self.vectors = vectors  # (V, C)
        self.unit = vectors / vectors.norm(dim=1, keepdim=True).clamp(min=1e-12)  # (V, C) rows of length 1

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: object) -> bool:
        return word in self.index

    def __getitem__(self, word: str) -> torch.Tensor:
        return self.vectors[self.id(word)]

    def __repr__(self) -> str:
        return f"WordVectors(words={len(self)}, dim={self.dim})"

    @property
    def dim(self) -> int:
        return self.vectors.shape[1]

    def id(self, word: str) -> int:
        """The row of ``word``; an unknown word raises ``KeyError`` naming the closest known words."""
        try:
            return self.index[word]
        except (KeyError, TypeError):
            import difflib

            close = difflib.get_close_matches(str(word), self.words, n=5, cutoff=0.6)
            hint = f"closest known words: {', '.join(close)}" if close else "no known word is close to it"
            raise KeyError(f"{word!r} is not in the vocabulary ({len(self)} words); {hint}") from None

    def similarity(self, a: str, b: str) -> float:
        """Cosine similarity of two words."""
        return float(self.unit[self.id(a)] @ self.unit[self.id(b)])

    def _nearest(self, query: torch.Tensor, k: int, exclude: Iterable[int]) -> list[tuple[str, float]]:
        scores = self.unit @ (query / query.norm().clamp(min=1e-12))  # (V,)
        scores[list(exclude)] = -math.inf
        top = scores.topk(min(k, len(self) - len(set(exclude))))
        return [(self.words[i], float(s)) for s, i in zip(top.values.tolist(), top.indices.tolist(), strict=True)]

    def most_similar(self, word: str | torch.Tensor, k: int = 10) -> list[tuple[str, float]]:
        """The ``k`` words of highest cosine with ``word`` (itself excluded) or with a query vector."""
        if isinstance(word, torch.Tensor):
            return self._nearest(word.float(), k, [])
        i = self.id(word)
        return self._nearest(self.unit[i], k, [i])

    def analogy(self, a: str, b: str, c: str, k: int = 1) -> list[tuple[str, float]]:
        """a : b :: c : ?  by 3CosAdd: the words nearest to b - a + c (unit vectors), a, b, c excluded.

        ``analogy("man", "king", "woman")`` -> ``[("queen", 0.8...)]`` with good vectors.
        """
        ia, ib, ic = self.id(a), self.id(b), self.id(c)
        return self._nearest(self.unit[ib] - self.unit[ia] + self.unit[ic], k, [ia, ib, ic])

    def evaluate_similarity(self, pairs: Iterable) -> SimilarityResult:
        """Spearman correlation between cosine and gold scores; ``pairs``: (word_a, word_b, score) tuples
        or objects with ``word_a``, ``word_b``, ``score``. Pairs with an unknown word are skipped and
        counted in ``coverage``."""
        pairs = [(p.word_a, p.word_b, p.score) if hasattr(p, "word_a") else tuple(p)[:3] for p in pairs]
        covered = [(a, b, s) for a, b, s in pairs if a in self.index and b in self.index]
        coverage = len(covered) / len(pairs) if pairs else 0.0
        if len(covered) < 2:
            return SimilarityResult(0.0, coverage, len(covered), len(pairs))
        cosines = [self.similarity(a, b) for a, b, _ in covered]
        return SimilarityResult(spearman(cosines, [s for _, _, s in covered]), coverage, len(covered), len(pairs))

    def evaluate_analogy(self, questions: Iterable, batch_size: int = 1024) -> AnalogyResult:
        """Exact-match accuracy of 3CosAdd over the covered questions; ``questions``: (a, b, c, d[, section])
        tuples or objects with ``a``, ``b``, ``c``, ``d`` and ``family`` or ``section``."""
        rows = []
        for q in questions:
            a, b, c, d = (q.a, q.b, q.c, q.d) if hasattr(q, "a") else tuple(q)[:4]
            section = getattr(q, "family", None) or getattr(q, "section", None) or \
                (tuple(q)[4] if not hasattr(q, "a") and len(tuple(q)) > 4 else "all")
            rows.append((a, b, c, d, section))
        known = [r for r in rows if all(w in self.index for w in r[:4])]
        if not known:
            return AnalogyResult(0.0, 0.0, 0, len(rows), {})
        ids = torch.tensor([[self.index[w] for w in r[:4]] for r in known])  # (Q, 4)
        correct = []
        for start in range(0, len(ids), batch_size):
            q = ids[start : start + batch_size]
            target = self.unit[q[:, 1]] - self.unit[q[:, 0]] + self.unit[q[:, 2]]  # (Q, C)
            scores = target @ self.unit.T  # (Q, V): the norm of target does not change the argmax
            scores.scatter_(1, q[:, :3], -math.inf)
            correct.append(scores.argmax(1) == q[:, 3])
        correct = torch.cat(correct)
        by_section: dict[str, list[bool]] = {}
        for r, ok in zip(known, correct.tolist(), strict=True):
            by_section.setdefault(r[4], []).append(ok)
        return AnalogyResult(float(correct.float().mean()), len(known) / len(rows), len(known), len(rows),
                             {s: sum(v) / len(v) for s, v in by_section.items()})

    def project_2d(self, words: Sequence[str] | None = None) -> torch.Tensor:
        """(n, 2) coordinates of ``words`` (default: all) on their two principal components (PCA)."""
        rows = self.vectors if words is None else self.vectors[[self.id(w) for w in words]]
        centered = rows.double() - rows.double().mean(0)
        _, _, Vt = torch.linalg.svd(centered, full_matrices=False)
        axes = Vt[:2].T  # (C, 2)
        points = centered @ axes
        return (points * torch.where(points.sum(0) < 0, -1.0, 1.0)).float()  # a fixed sign per axis

    # ------------------------------------------------------------------ interchange

    @classmethod
    def from_gensim(cls, model) -> WordVectors:
        """From a gensim ``Word2Vec`` / ``FastText`` model or its ``KeyedVectors`` (``model.wv``)."""
        kv = getattr(model, "wv", model)
        return cls(list(kv.index_to_key), torch.from_numpy(np.array(kv.vectors, dtype=np.float32)))

    @classmethod
    def load_text(cls, path) -> WordVectors:
        """Read ``word v1 v2 ...`` lines (GloVe; word2vec's text format with its ``V C`` header line too).

        A line whose number of values differs from the first one raises ``ValueError`` naming the line.
        """
        from pathlib import Path

        path = Path(path)
        words, rows, dim = [], [], None
        with path.open(encoding="utf-8") as f:
            for number, line in enumerate(f, start=1):
                fields = line.rstrip("\n").rstrip().split(" ")
                if number == 1 and len(fields) == 2 and all(x.isdigit() for x in fields):
                    continue  # word2vec header: vocabulary size and dimension
                if not line.strip():
                    continue
                try:
                    values = [float(x) for x in fields[1:]]
                except ValueError as err:
                    raise ValueError(f"{path}, line {number}: expected a word and numbers, got {line[:60]!r}") from err
                dim = len(values) if dim is None else dim
                if len(values) != dim or not values:
                    raise ValueError(f"{path}, line {number}: {len(values)} values for {fields[0]!r}, "
                                     f"expected {dim} like the first vector")
                words.append(fields[0])
                rows.append(values)
        if not rows:
            raise ValueError(f"{path}: no vectors found")
        return cls(words, torch.tensor(rows))

    def save_text(self, path) -> None:
        """Write word2vec's text format (``V C`` header, then ``word v1 ... vC``) atomically."""
        import os
        import tempfile
        from pathlib import Path

        path = Path(path)
        if any(not w or any(ch.isspace() for ch in w) for w in self.words):
            raise ValueError("a word is empty or contains whitespace: the text format cannot hold it")
        lines = [f"{len(self)} {self.dim}"] + [
            w + " " + " ".join(f"{x:.6g}" for x in row) for w, row in zip(self.words, self.vectors.tolist(), strict=True)]
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write("\n".join(lines) + "\n")
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman's rank correlation (ties get their average rank); 0.0 when either side is constant."""
    rx, ry = _ranks(np.asarray(x, dtype=np.float64)), _ranks(np.asarray(y, dtype=np.float64))
    rx, ry = rx - rx.mean(), ry - ry.mean()
    denominator = math.sqrt((rx**2).sum() * (ry**2).sum())
    return float((rx * ry).sum() / denominator) if denominator > 0 else 0.0


def _ranks(values: np.ndarray) -> np.ndarray:
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values))
    ranks[order] = np.arange(len(values), dtype=np.float64)
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=ranks)
    return sums[inverse] / counts[inverse]


def category_precision(vectors: WordVectors, category: dict[str, str], k: int = 5) -> float:
    """Mean share of each word's ``k`` nearest neighbours (whole vocabulary) that share its category.

    Only words whose category has more than ``k`` known members are scored, so 1.0 is reachable.
    """
    members = Counter(c for w, c in category.items() if w in vectors)
    scored = [w for w, c in category.items() if w in vectors and members[c] > k]
    if not scored:
        return 0.0
    hits = [sum(category.get(n) == category[w] for n, _ in vectors.most_similar(w, k)) / k for w in scored]
    return float(np.mean(hits))


def sense_classification(vectors: WordVectors, train: Sequence, test: Sequence, steps: int = 300,
                         seed: int = 0) -> tuple[float, float]:
    """Accuracy of a linear sense classifier whose only input is the static vector of the ambiguous token,
    and the per-word majority baseline, both on ``test`` (``SenseExample``s: ``word``, ``label``).

    Every token of "bank" gets the same vector, so no classifier can beat predicting each word's most
    frequent sense: this is the limit of one vector per word type.
    """
    train = [e for e in train if e.word in vectors]
    test = [e for e in test if e.word in vectors]
    if not train or not test:
        raise ValueError("no sense example whose word has a vector")
    x_train = torch.stack([vectors[e.word] for e in train])
    x_test = torch.stack([vectors[e.word] for e in test])
    y_train, y_test = torch.tensor([e.label for e in train]), torch.tensor([e.label for e in test])
    generator = torch.Generator().manual_seed(seed)
    probe = nn.Linear(vectors.dim, int(max(y_train.max(), y_test.max())) + 1)
    with torch.no_grad():
        probe.weight.copy_(torch.randn(probe.weight.shape, generator=generator) * 0.01)
        probe.bias.zero_()
    optimizer = torch.optim.Adam(probe.parameters(), lr=0.05)
    for _ in range(steps):
        loss = F.cross_entropy(probe(x_train), y_train)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        accuracy = float((probe(x_test).argmax(1) == y_test).float().mean())
    majority = {w: Counter(e.label for e in train if e.word == w).most_common(1)[0][0] for w in {e.word for e in train}}
    baseline = float(np.mean([majority.get(e.word, 0) == e.label for e in test]))
    return accuracy, baseline
