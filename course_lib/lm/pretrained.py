"""The LSTM LM of notebook 02, trained with the course's loop and cached.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable

import torch
from torch import nn

from course_lib.core import History, TrainConfig, config_key, fit, load_or_train
from course_lib.lm.data import LMDataConfig, lm_vocab, load_lm_corpus, sentence_batches, toyworld_vocab
from course_lib.lm.lstm import LSTMLM, LSTMLMConfig
from course_lib.lm.ngram import _token_lists, cross_entropy


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
