"""The biLM of notebook 03, trained with the course's loop and cached.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence

import torch

from course_lib.core import History, TrainConfig, config_key, fit, load_or_train
from course_lib.elmo.bilm import PAD_ID, BiLM, BiLMConfig
from course_lib.text import length_buckets, pad_batch


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
