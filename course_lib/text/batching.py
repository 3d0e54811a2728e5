"""Batching: padding with attention masks, length buckets, a collate function for token lists."""

from __future__ import annotations

import array
import itertools
import numbers
from collections.abc import Sequence

import torch

from course_lib.arguments import check_int, check_optional_int
from course_lib.text.vocab import Vocab
from course_lib.text.wordpiece import WordPieceTokenizer

# ---------------------------------------------------------------- batching


def pad_batch(
    sequences: Sequence[Sequence[int]], pad_id: int, max_length: int | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad id sequences into a batch.

    Returns ``(ids, attention_mask)``, both LongTensors of shape (B, T) with T the longest
    sequence (cut to ``max_length`` >= 1 when given); the mask is 1 on real tokens, 0 on padding.
    Ids must be ints (a float id raises rather than being truncated).

    >>> pad_batch([[5, 6, 7], [8]], pad_id=0)[0].tolist()
    [[5, 6, 7], [8, 0, 0]]
    """
    _check_pad_arguments(sequences, pad_id, max_length)
    lengths = [len(s) if max_length is None else min(len(s), max_length) for s in sequences]
    T = max(max(lengths), 1)
    # all ids in one flat tensor, written where the mask is 1 (row-major): far faster than row by row
    heads = (seq[:n].tolist() if isinstance(seq, torch.Tensor) else seq[:n]
             for seq, n in zip(sequences, lengths, strict=True))
    mask = torch.arange(T) < torch.tensor(lengths)[:, None]
    ids = torch.full((len(sequences), T), pad_id, dtype=torch.long)
    flat = list(itertools.chain.from_iterable(heads))
    try:  # an int64 array refuses floats, strings and lists (torch.tensor(..., dtype=long) truncates 1.7 to 1)
        values = array.array("q", flat)
    except (TypeError, OverflowError) as err:
        raise TypeError(f"pad_batch takes int token ids, got {_first_odd(flat)!r}: ids are never fractional; "
                        f"encode tokens to ids first, or convert whole numbers with int() or .long()") from err
    if flat:
        ids[mask] = torch.frombuffer(values, dtype=torch.long)
    return ids, mask.long()


def _check_pad_arguments(sequences: Sequence[Sequence[int]], pad_id: int, max_length: int | None) -> None:
    if isinstance(sequences, (str, bytes)) or not hasattr(sequences, "__len__"):
        raise TypeError(f"pad_batch takes a list of id sequences, got {type(sequences).__name__}")
    if len(sequences) == 0:
        raise ValueError("pad_batch got an empty batch: pass at least one sequence")
    check_int(pad_id, "pad_id")
    check_optional_int(max_length, "max_length", minimum=1)
    for i, seq in enumerate(sequences):
        if isinstance(seq, (str, bytes)) or not hasattr(seq, "__len__") or getattr(seq, "ndim", 1) != 1:
            what = f"{type(seq).__name__} of shape {tuple(seq.shape)}" if hasattr(seq, "shape") else type(seq).__name__
            raise TypeError(f"pad_batch: sequence {i} is a {what}, not a list of token ids: encode it first "
                            f"(vocab.encode, tokenizer.encode)")


def _first_odd(values: list) -> object:
    """The first value that is not an int, for error messages."""
    return next((v for v in values if isinstance(v, bool) or not isinstance(v, numbers.Integral)), values[:1])


def length_buckets(lengths: Sequence[int], batch_size: int, shuffle: bool = True,
                   generator: torch.Generator | int | None = None, pool_batches: int = 50,
                   drop_last: bool = False) -> list[list[int]]:
    """Batches of indices whose sequences have similar lengths, so that little of a batch is padding.

    Without shuffling: indices sorted by length, cut into batches. With shuffling: a random
    permutation, cut into pools of ``pool_batches`` batches, each pool sorted by length and cut
    into batches, then the batches in random order; ``generator`` (or an int seed) makes it repeatable.

    >>> length_buckets([5, 1, 4, 2, 3], batch_size=2, shuffle=False)
    [[1, 3], [4, 2], [0]]
    """
    check_int(batch_size, "batch_size", minimum=1)
    check_int(pool_batches, "pool_batches", minimum=1)
    if isinstance(generator, int):
        generator = torch.Generator().manual_seed(generator)
    n = len(lengths)
    if not shuffle:
        order = sorted(range(n), key=lambda i: lengths[i])
        pools = [order]
    else:
        perm = torch.randperm(n, generator=generator).tolist()
        size = batch_size * max(pool_batches, 1)
        pools = [sorted(perm[s:s + size], key=lambda i: lengths[i]) for s in range(0, n, size)]
    batches = [pool[s:s + batch_size] for pool in pools for s in range(0, len(pool), batch_size)]
    if drop_last:
        batches = [b for b in batches if len(b) == batch_size]
    if shuffle:
        batches = [batches[i] for i in torch.randperm(len(batches), generator=generator).tolist()]
    return batches


def collate_tokens(examples: Sequence[str | Sequence[str] | tuple[str, str]],
                   vocab_or_tokenizer: Vocab | WordPieceTokenizer,
                   max_length: int | None = None) -> dict[str, torch.Tensor]:
    """Encode and pad a batch: ``input_ids`` and ``attention_mask`` (B, T), plus ``token_type_ids``
    for a ``WordPieceTokenizer``.

    With a ``Vocab``, an example is a text (split by ``word_tokenize``) or a list of tokens, cut
    to ``max_length``. With a ``WordPieceTokenizer``, an example is a text or a pair of texts,
    encoded as ``[CLS] a [SEP] (b [SEP])`` and cut longest-first to ``max_length``.

    >>> collate_tokens(["the bank", "the"], Vocab.build([["the", "bank"], ["the"]]))["input_ids"].tolist()
    [[7, 8], [7, 0]]
    """
    if isinstance(vocab_or_tokenizer, Vocab):
        ids = [vocab_or_tokenizer.encode(e) for e in examples]  # type: ignore[arg-type]
        input_ids, mask = pad_batch(ids, vocab_or_tokenizer.pad_id, max_length)
        return {"input_ids": input_ids, "attention_mask": mask}
    if isinstance(vocab_or_tokenizer, WordPieceTokenizer):
        tok = vocab_or_tokenizer
        encs = [tok.encode(e, max_length=max_length) if isinstance(e, str)
                else tok.encode(e[0], e[1], max_length=max_length) for e in examples]
        input_ids, mask = pad_batch([e.input_ids for e in encs], tok.pad_token_id)
        token_type_ids, _ = pad_batch([e.token_type_ids for e in encs], 0)
        return {"input_ids": input_ids, "token_type_ids": token_type_ids, "attention_mask": mask}
    raise TypeError(f"collate_tokens needs a Vocab or a WordPieceTokenizer, got {type(vocab_or_tokenizer).__name__}")

