"""Data for the sentence-level language models: corpora, vocabularies and batches.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import torch

from course_lib.data import Corpus, load_corpus, named_toy_world, toy_world
from course_lib.lm.ngram import token_lists
from course_lib.text import Vocab, length_buckets


def toyworld_vocab() -> Vocab:
    """The course's special tokens, then every word of the default toy world, in its order."""
    return Vocab(toy_world().vocabulary)


def load_lm_corpus(corpus: str, split: str, seed: int = 0, num_documents: int | None = None) -> Corpus:
    """The first ``num_documents`` documents of a split: a toy world (``TOY_WORLDS``), or any ``load_corpus``
    source.

    A toy world's split is generated once per process and handed out as a new ``Corpus`` each time (its own
    list of documents): recipes that differ only in the model (notebook 04's biLMs of 1, 2 and 4 layers) share
    the generation."""
    world = named_toy_world(corpus)
    if world is not None:
        made = _toy_corpus(corpus, split, seed, num_documents)
        return Corpus(made.name, made.split, list(made.documents), dict(made.info))
    return load_corpus(corpus, split, seed, max_documents=num_documents)


@functools.lru_cache(maxsize=8)
def _toy_corpus(corpus: str, split: str, seed: int, num_documents: int | None) -> Corpus:
    return named_toy_world(corpus).corpus(split, seed, num_documents)  # generates only what it needs


def lm_vocab(corpus: str, train: Iterable) -> Vocab:
    """A toy world's full vocabulary, or the words seen at least twice in ``train`` (the rest is [UNK])."""
    world = named_toy_world(corpus)
    return Vocab(world.vocabulary) if world is not None else Vocab.build(token_lists(train), min_freq=2)


def sentence_ids(sentences: Iterable, vocab: Vocab) -> list[list[int]]:
    """``[<bos>, w_1 .. w_n, <eos>]`` ids per sentence: the model reads from <bos> and predicts up to <eos>."""
    return [[vocab.bos_id, *vocab.encode(tokens), vocab.eos_id] for tokens in token_lists(sentences)]


def sentence_batches(sentences: Iterable, vocab: Vocab, batch_size: int = 64, seed: int = 0
                     ) -> Callable[[], Iterator[dict]]:
    """Sentence-level training batches: every sentence read on its own from <bos>, in length buckets.

    Returns a function giving one epoch of ``{"input_ids": (B, T), "targets": (B, T)}`` per call
    (a fresh shuffle each epoch, repeatable from ``seed``); targets are inputs shifted by one, [PAD] where
    a sentence has ended.
    """
    encoded = sentence_ids(sentences, vocab)
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
    ids = [vocab.bos_id] + [i for e in sentence_ids(sentences, vocab) for i in e[1:]]
    n = (len(ids) - 1) // batch_size
    if n < 1:
        raise ValueError(f"{len(ids)} tokens cannot fill {batch_size} streams")
    stream = torch.tensor(ids[: n * batch_size + 1])
    x = stream[:-1].view(batch_size, n)  # (B, N): row b is the b-th stretch of the text
    y = stream[1:].view(batch_size, n)  # (B, N): the next token of each position
    return [{"input_ids": x[:, s:s + bptt], "targets": y[:, s:s + bptt], "reset": s == 0}
            for s in range(0, n, bptt)]


@dataclass
class LMDataConfig:
    corpus: str = "toyworld"  # or a load_corpus name or path (then there is no exact bound)
    seed: int = 0  # seeds the corpus (the toy world's stream, other corpora's split)
    train_documents: int = 20000  # documents of the train split (~90k sentences, ~560k words)
    validation_sentences: int = 500  # evaluated every `eval_every` steps
    batch_size: int = 64  # sentences per batch
