"""Language models and how to score them: n-gram with Kneser–Ney smoothing, perplexity, the LSTM LM's data and training.

Every language model here answers one question, ``token_logprobs(sentences)``: for each sentence, the
log-probability of each of its words and of the ``<eos>`` that ends it, given the words before it
(the chain rule: ``log p(s) = sum_t log p(w_t | w_1 .. w_{t-1})``). ``perplexity`` needs nothing else,
so it scores the uniform model, the n-grams and the LSTM alike, with the toy world's convention for
its exact bound: one ``<eos>`` per sentence counted as a token, each sentence read on its own.

>>> lm = NGramLM.fit(train_sentences, vocab, order=3)
>>> perplexity(lm, test_sentences)                            # doctest: +SKIP
6.21
>>> model, history = pretrained_lstm_lm(seed=0)               # trained once, then from the cache
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch
from torch import nn

from course_lib.data.corpus import Corpus
from course_lib.lstm import LSTMLM, LSTMCell, LSTMLMConfig, native_lstm, tbptt_step, unroll
from course_lib.text import Vocab, length_buckets
from course_lib.train import History, TrainConfig, config_key, fit, load_or_train

__all__ = ["LSTMCell", "LSTMLM", "LSTMLMConfig", "LanguageModel", "NGramLM", "UniformLM", "LMDataConfig",
           "cross_entropy", "default_train_config", "encode_sentences", "lm_vocab", "load_lm_corpus", "native_lstm",
           "perplexity", "pretrained_lstm_lm", "sentence_batches", "stream_batches", "tbptt_step", "toyworld_vocab",
           "train_lstm_lm", "unroll"]


class LanguageModel(Protocol):
    def token_logprobs(self, sentences: Sequence[Sequence[str]]) -> list[np.ndarray]:
        """One array per sentence: ``len(sentence) + 1`` natural-log probabilities (the last for <eos>)."""
        ...


def _token_lists(sentences: Iterable) -> list[list[str]]:
    """Sentences as token lists: ``Sentence`` objects, a ``Corpus`` or plain lists of words."""
    return [list(getattr(s, "tokens", s)) for s in sentences]


def cross_entropy(model: LanguageModel, sentences: Iterable) -> float:
    """Mean negative log-likelihood in nats per predicted token (words + one <eos> per sentence)."""
    logps = model.token_logprobs(_token_lists(sentences))
    num_tokens = sum(len(lp) for lp in logps)
    if num_tokens == 0:
        raise ValueError("no sentences to score")
    return float(-sum(float(np.sum(lp)) for lp in logps) / num_tokens)


def perplexity(model: LanguageModel, sentences: Iterable) -> float:
    """``exp(cross_entropy)``: the number of equally likely words the model hesitates between, on average."""
    return math.exp(cross_entropy(model, sentences))


class UniformLM:
    """Every token of the vocabulary equally likely: perplexity = ``len(vocab)``, the worst sensible model."""

    def __init__(self, vocab: Vocab) -> None:
        self.vocab = vocab

    def token_logprobs(self, sentences: Sequence[Sequence[str]]) -> list[np.ndarray]:
        return [np.full(len(s) + 1, -math.log(len(self.vocab))) for s in sentences]


class NGramLM:
    """An n-gram model with interpolated Kneser–Ney smoothing (Chen & Goodman 1998), over ``vocab``'s ids.

    ``p_k(w | h) = max(c_k(h, w) - D_k, 0) / c_k(h) + D_k N1+(h •) / c_k(h) · p_{k-1}(w | h')``, where
    ``h'`` drops the oldest word of ``h``, ``c_n`` counts n-grams and a lower order ``c_k`` counts the
    distinct words seen *before* (h, w) (continuation counts), and ``p_0`` is uniform over the vocabulary.
    An unseen context falls through to the next order, so every ``p_k(• | h)`` sums to 1.
    ``order=1`` is the unigram baseline (absolutely discounted counts mixed with the uniform model).
    """

    def __init__(self, vocab: Vocab, order: int, counts: list[dict], discounts: list[float]) -> None:
        self.vocab, self.order, self.discounts = vocab, order, discounts
        self.counts = counts  # counts[k - 1][context tuple of k - 1 ids] = Counter(next id -> count)
        self.totals = [{h: sum(c.values()) for h, c in level.items()} for level in counts]

    @classmethod
    def fit(cls, sentences: Iterable, vocab: Vocab, order: int = 3, discount: float | None = None) -> NGramLM:
        """Count the sentences (each padded with ``order - 1`` <bos> and one <eos>) and estimate D_k.

        ``discount=None`` estimates ``D_k = n1 / (n1 + 2 n2)`` per order from the counts of counts.
        """
        if order < 1:
            raise ValueError(f"order must be >= 1, got {order}")
        grams: Counter = Counter()
        for tokens in _token_lists(sentences):
            ids = [vocab.bos_id] * (order - 1) + vocab.encode(tokens) + [vocab.eos_id]
            grams.update(tuple(ids[i - order + 1: i + 1]) for i in range(order - 1, len(ids)))
        levels = [grams]
        for _ in range(order - 1):  # continuation counts: how many distinct words precede the (k)-gram
            levels.insert(0, Counter(g[1:] for g in levels[0]))
        counts, discounts = [], []
        for level in levels:
            table: dict = defaultdict(Counter)
            for g, c in level.items():
                table[g[:-1]][g[-1]] = c
            counts.append(dict(table))
            n1, n2 = sum(c == 1 for c in level.values()), sum(c == 2 for c in level.values())
            discounts.append(discount if discount is not None else (n1 / (n1 + 2 * n2) if n1 + n2 else 0.5))
        return cls(vocab, order, counts, discounts)

    def prob(self, context: Sequence[int], word: int) -> float:
        """p(word | the last ``order - 1`` ids of context), ids of ``self.vocab``."""
        p = 1.0 / len(self.vocab)
        context = tuple(context)
        for k in range(1, self.order + 1):  # from the unigram up to the full order
            h = context[len(context) - (k - 1):] if k > 1 else ()
            total = self.totals[k - 1].get(h)
            if not total:
                continue  # unseen context: this order adds nothing, keep the lower-order estimate
            seen, d = self.counts[k - 1][h], self.discounts[k - 1]
            p = max(seen.get(word, 0) - d, 0.0) / total + d * len(seen) / total * p
        return p

    def next_word_probs(self, context: Sequence[int]) -> np.ndarray:
        """(V,) p(w | context) for every id w of the vocabulary; sums to 1."""
        return np.array([self.prob(context, w) for w in range(len(self.vocab))])

    def token_logprobs(self, sentences: Sequence[Sequence[str]]) -> list[np.ndarray]:
        out = []
        for tokens in sentences:
            ids = [self.vocab.bos_id] * (self.order - 1) + self.vocab.encode(list(tokens)) + [self.vocab.eos_id]
            out.append(np.log([self.prob(ids[i - self.order + 1: i], ids[i])
                               for i in range(self.order - 1, len(ids))]))
        return out

    def sample(self, num_sentences: int, max_length: int = 30, seed: int = 0) -> list[list[str]]:
        """Sentences drawn word by word from <bos> until <eos>; special tokens other than <eos> never drawn."""
        rng, v, out = np.random.default_rng(seed), self.vocab, []
        allowed = np.array([i not in v.special_ids or i == v.eos_id for i in range(len(v))])
        for _ in range(num_sentences):
            ids = [v.bos_id] * (self.order - 1)
            while len(ids) - (self.order - 1) < max_length:
                p = self.next_word_probs(ids) * allowed
                w = int(rng.choice(len(p), p=p / p.sum()))
                if w == v.eos_id:
                    break
                ids.append(w)
            out.append(v.decode(ids[self.order - 1:]))
        return out


# ---------------------------------------------------------------------------- data for the LSTM LM


def toyworld_vocab() -> Vocab:
    """The course's special tokens, then every word of the default toy world, in its order."""
    from course_lib.data.toyworld import toy_world

    return Vocab(toy_world().vocabulary)


def load_lm_corpus(corpus: str, split: str, seed: int = 0, num_documents: int | None = None) -> Corpus:
    """The first ``num_documents`` documents of a split: the toy world, or any ``load_corpus`` source."""
    if corpus == "toyworld":
        from course_lib.data.toyworld import toyworld_corpus

        return toyworld_corpus(split, seed, num_documents)  # generates only what it needs
    from course_lib.data.loaders import load_corpus

    return load_corpus(corpus, split, seed, max_documents=num_documents)


def lm_vocab(corpus: str, train: Iterable) -> Vocab:
    """The toy world's full vocabulary, or the words seen at least twice in ``train`` (the rest is [UNK])."""
    return toyworld_vocab() if corpus == "toyworld" else Vocab.build(_token_lists(train), min_freq=2)


def encode_sentences(sentences: Iterable, vocab: Vocab) -> list[list[int]]:
    """``[<bos>, w_1 .. w_n, <eos>]`` ids per sentence: the model reads from <bos> and predicts up to <eos>."""
    return [[vocab.bos_id, *vocab.encode(tokens), vocab.eos_id] for tokens in _token_lists(sentences)]


def sentence_batches(sentences: Iterable, vocab: Vocab, batch_size: int = 64, seed: int = 0
                     ) -> Callable[[], Iterator[dict]]:
    """Sentence-level training batches: every sentence read on its own from <bos>, in length buckets.

    Returns a function giving one epoch of ``{"input_ids": (B, T), "targets": (B, T)}`` per call
    (a fresh shuffle each epoch, repeatable from ``seed``); targets are inputs shifted by one, [PAD] where
    a sentence has ended.
    """
    encoded = encode_sentences(sentences, vocab)
    if not encoded:
        raise ValueError("no sentences to train on")
    lengths = [len(e) for e in encoded]
    padded = torch.full((len(encoded), max(lengths)), vocab.pad_id, dtype=torch.long)  # (N, T_max + 1)
    for i, e in enumerate(encoded):
        padded[i, : len(e)] = torch.tensor(e)
    generator = torch.Generator().manual_seed(seed)

    def epoch() -> Iterator[dict]:
        for idx in length_buckets(lengths, batch_size, shuffle=True, generator=generator):
            ids = padded[idx, : max(lengths[i] for i in idx)]  # (B, T + 1)
            yield {"input_ids": ids[:, :-1], "targets": ids[:, 1:]}

    return epoch


def stream_batches(sentences: Iterable, vocab: Vocab, batch_size: int, bptt: int) -> list[dict]:
    """Batches for truncated back-propagation through time (``tbptt_step``): text as B parallel streams.

    The sentences, each ended by <eos>, are joined into one stream, cut into ``batch_size`` rows of
    equal length (B, N), and the rows into chunks of ``bptt`` steps; chunk k + 1 of a row continues
    chunk k, so the state carries over. ``reset`` marks the first chunk.
    """
    ids = [vocab.bos_id] + [i for e in encode_sentences(sentences, vocab) for i in e[1:]]
    n = (len(ids) - 1) // batch_size
    if n < 1:
        raise ValueError(f"{len(ids)} tokens cannot fill {batch_size} streams")
    stream = torch.tensor(ids[: n * batch_size + 1])
    x = stream[:-1].view(batch_size, n)  # (B, N): row b is the b-th stretch of the text
    y = stream[1:].view(batch_size, n)  # (B, N): the next token of each position
    return [{"input_ids": x[:, s:s + bptt], "targets": y[:, s:s + bptt], "reset": s == 0}
            for s in range(0, n, bptt)]


# ---------------------------------------------------------------------------- training and the cached model


@dataclass
class LMDataConfig:
    corpus: str = "toyworld"  # or a load_corpus name or path (then there is no exact bound)
    seed: int = 0  # seeds the corpus (the toy world's stream, other corpora's split)
    train_documents: int = 20000  # documents of the train split (~90k sentences, ~560k words)
    validation_sentences: int = 500  # evaluated every `eval_every` steps
    batch_size: int = 64  # sentences per batch


def default_train_config(steps: int = 2300, seed: int = 0, progress: bool = True) -> TrainConfig:
    """What the course trains the LSTM LM with: Adam at 2e-2 decayed linearly to 0, clipped at 1.

    No warm-up: on the toy world a 100-step warm-up left the model on a plateau for its first ~800
    steps (test perplexity 1.10x the exact bound after 2,300 steps, against 1.05x without).
    """
    return TrainConfig(steps=steps, lr=2e-2, warmup_steps=0, schedule="linear", grad_clip=1.0,
                       eval_every=max(1, steps // 6), monitor="val_loss", seed=seed, progress=progress,
                       desc="LSTM LM")


def train_lstm_lm(model: LSTMLM, train_sentences: Iterable, validation_sentences: Iterable,
                  config: TrainConfig, batch_size: int = 64) -> History:
    """Train a sentence-level LSTM LM with ``course_lib.train.fit``; ``val_loss`` is nats per token."""
    vocab = model._words()
    batches = sentence_batches(train_sentences, vocab, batch_size, seed=config.seed or 0)
    held_out = _token_lists(validation_sentences)
    return fit(model, batches, config, evaluate=lambda m: {"val_loss": cross_entropy(m, held_out)})


def pretrained_lstm_lm(seed: int = 0, config: LSTMLMConfig | None = None, steps: int = 2300,
                       data: LMDataConfig | None = None, progress: bool = True) -> tuple[LSTMLM, History]:
    """The sentence-level LSTM LM of notebook 02, trained once (deterministically), then read from the cache.

    ``seed`` seeds the initial weights and the training (and the data when ``data`` is not given);
    ``config.vocab_size`` is set from the corpus's vocabulary. The cache key covers every setting, the
    vocabulary and the first documents of the corpus, so other settings, or a changed generator, train
    (and cache) another model. Returns ``(model in eval mode, training history)``.
    """
    data = data or LMDataConfig(seed=seed)
    return cached_sentence_lm("lstm_lm", LSTMLM, config or LSTMLMConfig(), train_lstm_lm,
                              default_train_config(steps, seed=seed, progress=progress), data, seed)


def cached_sentence_lm(name: str, model_class: type, config, train_fn: Callable, train_config: TrainConfig,
                       data: LMDataConfig, seed: int = 0) -> tuple[nn.Module, History]:
    """What the course's cached sentence-level LMs share (the LSTM LM here, ``course_lib.gpt``'s GPT).

    Builds ``model_class(config with vocab_size set, vocab)`` from a seeded generator, trains it with
    ``train_fn(model, train sentences, held-out sentences, train_config, batch size)`` through
    ``load_or_train``; the cache key covers every setting, the vocabulary and the corpus's first sentences.
    """
    corpus = lambda split, n: load_lm_corpus(data.corpus, split, data.seed, n)  # noqa: E731
    first = [(s.text, None if s.logprob is None else round(s.logprob, 6)) for s in corpus("train", 3)]
    if data.corpus == "toyworld":
        vocab = toyworld_vocab()
    else:
        vocab = lm_vocab(data.corpus, corpus("train", data.train_documents))
    config = dataclasses.replace(config, vocab_size=len(vocab))

    def build() -> nn.Module:
        with torch.random.fork_rng(devices=[]):  # the same initial weights wherever it is called
            torch.manual_seed(seed)
            return model_class(config, vocab)

    def train(model: nn.Module) -> History:
        held_out = list(corpus("validation", 200))[: data.validation_sentences]
        return train_fn(model, corpus("train", data.train_documents), held_out, train_config, data.batch_size)

    keyed = dataclasses.replace(train_config, progress=True)  # a progress bar changes no weight
    key = config_key(config, data, keyed, seed, vocab.itos, first)
    model, history = load_or_train(name, build, train, key)
    return model.eval(), history
