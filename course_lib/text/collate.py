"""Collate functions: a list of task examples -> a dict of LongTensors, batch first, ready for a model.

One function per kind of task in ``course_lib.data.tasks``. They read only the examples' fields
(``tokens``, ``tags``, ``position`` …), so any object with those fields will do. Two encoders:

- a word-level ``Vocab``: one id per word, no special tokens (a BiLSTM tagger, a bag of words);
- a ``WordPieceTokenizer``: BERT's input ``[CLS] a [SEP]`` or ``[CLS] a [SEP] b [SEP]``, where a word
  may become several pieces (``unaffable`` -> ``un ##aff ##able``).

A word-level label then sits on the first piece of its word and ``-100`` (``IGNORE_INDEX``, which
``F.cross_entropy`` skips) on the other pieces, the special tokens and the padding, as in BERT's
fine-tuning for tagging. ``encode_words`` remembers where each word's pieces start and end; every
function here goes through it. Sequences are cut longest-first (``truncate_longest_first``), as
``WordPieceTokenizer.encode`` cuts them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import torch

from course_lib.text.batching import pad_batch
from course_lib.text.vocab import Vocab
from course_lib.text.wordpiece import WordPieceTokenizer, truncate_longest_first

if TYPE_CHECKING:
    from course_lib.data.tasks import (
        QAExample,
        SameSensePair,
        SenseExample,
        SentencePair,
        Seq2SeqExample,
        SpamMessage,
        TaggedSentence,
    )

__all__ = [
    "IGNORE_INDEX", "WordPieces", "collate_classification", "collate_pairs", "collate_qa", "collate_sense",
    "collate_seq2seq", "collate_tagging", "encode_words",
]

IGNORE_INDEX = -100  # the label of positions the loss skips: F.cross_entropy's default ignore_index

Encoder = Vocab | WordPieceTokenizer


class WordPieces(NamedTuple):
    """The ids of a list of words; word ``i`` covers ``ids[word_starts[i] : word_ends[i] + 1]``."""

    ids: list[int]
    word_starts: list[int]
    word_ends: list[int]  # inclusive, like the spans of QAExample

    def word_ids(self) -> list[int]:
        """The word of each piece: ``the un ##aff ##able`` -> ``[0, 1, 1, 1]``."""
        out = [0] * len(self.ids)
        for w, (s, e) in enumerate(zip(self.word_starts, self.word_ends, strict=True)):
            out[s:e + 1] = [w] * (e + 1 - s)
        return out


def encode_words(words: Sequence[str], encoder: Encoder) -> WordPieces:
    """Encode a list of words and remember where each word's pieces start and end.

    A ``Vocab`` gives one id per word (``[UNK]`` for an unknown one); a ``WordPieceTokenizer``
    pieces each word on its own, exactly as ``tokenize`` pieces the words of a text.

    >>> tok = WordPieceTokenizer(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "un", "##aff", "##able"])
    >>> encode_words(["the", "unaffable", "moon"], tok)
    WordPieces(ids=[5, 6, 7, 8, 1], word_starts=[0, 1, 4], word_ends=[0, 3, 4])
    """
    if isinstance(encoder, Vocab):
        ids = encoder.encode(list(words))
        return WordPieces(ids, list(range(len(ids))), list(range(len(ids))))
    if isinstance(encoder, WordPieceTokenizer):
        ids: list[int] = []
        starts, ends = [], []
        for word in words:
            pieces = encoder.encode_word(word)  # [UNK] for a "word" with no pieces: it keeps its position
            starts.append(len(ids))
            ids.extend(pieces)
            ends.append(len(ids) - 1)
        return WordPieces(ids, starts, ends)
    raise TypeError(f"expected a Vocab or a WordPieceTokenizer, got {type(encoder).__name__}")


# ---------------------------------------------------------------- shared steps


class _Packed(NamedTuple):
    """One model input: ids, segments, and where the pieces of ``a`` and ``b`` start and how many were kept."""

    input_ids: list[int]
    token_type_ids: list[int]
    offsets: tuple[int, int]
    kept: tuple[int, int]


def _pack(a: list[int], b: list[int] | None, encoder: Encoder, max_length: int | None, specials: bool) -> _Packed:
    """``[CLS] a [SEP] (b [SEP])`` cut longest-first to ``max_length`` ids; without ``specials``, ``a`` cut."""
    if not specials:
        a = a if max_length is None else a[:max_length]
        return _Packed(a, [0] * len(a), (0, 0), (len(a), 0))
    cls_id, sep_id = (encoder.cls_id, encoder.sep_id) if isinstance(encoder, Vocab) else \
        (encoder.cls_token_id, encoder.sep_token_id)
    if max_length is not None:
        a, b = truncate_longest_first(a, b, max_length - (2 if b is None else 3))
    ids = [cls_id, *a, sep_id]
    types = [0] * len(ids)
    if b is not None:
        ids += [*b, sep_id]
        types += [1] * (len(b) + 1)
    return _Packed(ids, types, (1, len(a) + 2), (len(a), 0 if b is None else len(b)))


def _locate(pieces: WordPieces, word: int, packed: _Packed, side: int = 0, last: bool = False) -> int | None:
    """Position in ``input_ids`` of the first (or ``last``) piece of ``word`` of side ``a`` (0) or ``b`` (1);
    ``None`` when truncation cut that piece off."""
    piece = (pieces.word_ends if last else pieces.word_starts)[word]
    return packed.offsets[side] + piece if piece < packed.kept[side] else None


def _check_batch(examples: Sequence[Any], max_length: int | None, n_special: int, name: str) -> None:
    if len(examples) == 0:
        raise ValueError(f"{name} got an empty batch: pass at least one example")
    if max_length is not None and max_length < max(n_special, 1):
        what = f"the {n_special} special tokens" if n_special else "one token"
        raise ValueError(f"{name}: max_length={max_length} cannot hold {what}: use max_length >= {max(n_special, 1)}")


def _check_known(keys: Iterable[Any], mapping: Mapping[Any, int], what: str) -> None:
    unknown = sorted({k for k in keys if k not in mapping}, key=repr)
    if unknown:
        raise ValueError(f"unknown {what} {unknown}: the mapping knows {sorted(mapping, key=repr)}")


def _labels(values: list[Any], label_to_id: Mapping[Any, int] | None, what: str) -> torch.Tensor:
    """(B,) ids: ``label_to_id[value]`` when a mapping is given, else the values themselves as ints."""
    if label_to_id is None:
        wrong = [v for v in values if not isinstance(v, int)]  # bool is an int: is_next, same
        if wrong:
            raise ValueError(f"{what} labels {wrong[:5]} are not ints: pass label_to_id to map them to ids")
        return torch.tensor([int(v) for v in values], dtype=torch.long)
    _check_known(values, label_to_id, f"{what} labels")
    return torch.tensor([label_to_id[v] for v in values], dtype=torch.long)


def _batch(packed: list[_Packed], encoder: Encoder, with_types: bool) -> dict[str, torch.Tensor]:
    """Pad into ``input_ids``, ``attention_mask`` and (``with_types``) ``token_type_ids``, all (B, T)."""
    pad_id = encoder.pad_id if isinstance(encoder, Vocab) else encoder.pad_token_id
    input_ids, attention_mask = pad_batch([p.input_ids for p in packed], pad_id)
    out = {"input_ids": input_ids, "attention_mask": attention_mask}
    if with_types:
        out["token_type_ids"] = pad_batch([p.token_type_ids for p in packed], 0)[0]
    return out


def _cut_off(name: str, i: int, word: str, position: int, max_length: int | None) -> ValueError:
    return ValueError(f"{name}: example {i}: the word {word!r} at position {position} is cut off by "
                      f"max_length={max_length}; use a larger max_length or shorter examples")


# ---------------------------------------------------------------- one sentence


def collate_tagging(examples: Sequence[TaggedSentence], encoder: Encoder, tag_to_id: Mapping[str, int],
                    max_length: int | None = None) -> dict[str, torch.Tensor]:
    """Tagged sentences (``tokens``, ``tags``) -> ``input_ids``, ``attention_mask``, ``labels``, all (B, T).

    With a ``Vocab``, one label per word. With a ``WordPieceTokenizer`` (``[CLS] … [SEP]``, plus
    ``token_type_ids``), the label sits on the first piece of each word, ``-100`` on the others:
    ``the unaffable bank`` -> ``[CLS] the un ##aff ##able bank [SEP]`` with labels
    ``[-100, DET, ADJ, -100, -100, NOUN, -100]``. Padding gets ``-100`` too.
    """
    bert = isinstance(encoder, WordPieceTokenizer)
    _check_batch(examples, max_length, 2 if bert else 0, "collate_tagging")
    for i, ex in enumerate(examples):
        if len(ex.tokens) != len(ex.tags):
            raise ValueError(f"collate_tagging: example {i} has {len(ex.tokens)} tokens but {len(ex.tags)} tags")
    _check_known((t for ex in examples for t in ex.tags), tag_to_id, "tags")
    packed, labels = [], []
    for ex in examples:
        pieces = encode_words(ex.tokens, encoder)
        p = _pack(pieces.ids, None, encoder, max_length, specials=bert)
        row = [IGNORE_INDEX] * len(p.input_ids)
        for w, tag in enumerate(ex.tags):
            at = _locate(pieces, w, p)
            if at is not None:
                row[at] = tag_to_id[tag]
        packed.append(p)
        labels.append(row)
    out = _batch(packed, encoder, with_types=bert)
    out["labels"] = pad_batch(labels, IGNORE_INDEX)[0]  # (B, T)
    return out


def collate_sense(examples: Sequence[SenseExample], encoder: Encoder,
                  label_to_id: Mapping[tuple[str, str], int] | None = None,
                  max_length: int | None = None) -> dict[str, torch.Tensor]:
    """Polysemous words in context -> ``input_ids``, ``attention_mask`` (B, T), ``positions``, ``labels`` (B,).

    ``positions[b]`` indexes ``input_ids[b]`` at the (first piece of the) word ``tokens[position]``,
    the vector a sense classifier reads. Labels: ``example.label`` (the sense's index among the word's
    senses) or, with ``label_to_id``, ``label_to_id[(word, sense)]``: one class per sense of every word
    (sense names alone repeat: a bat and a seal are both "animal"). A ``WordPieceTokenizer`` adds
    ``[CLS] … [SEP]`` and ``token_type_ids``. A target word cut off by ``max_length`` is an error.
    """
    bert = isinstance(encoder, WordPieceTokenizer)
    name = "collate_sense"
    _check_batch(examples, max_length, 2 if bert else 0, name)
    keys = [ex.label for ex in examples] if label_to_id is None else [(ex.word, ex.sense) for ex in examples]
    labels = _labels(keys, label_to_id, "sense")
    packed, positions = [], []
    for i, ex in enumerate(examples):
        pieces = encode_words(ex.tokens, encoder)
        p = _pack(pieces.ids, None, encoder, max_length, specials=bert)
        at = _locate(pieces, ex.position, p)
        if at is None:
            raise _cut_off(name, i, ex.word, ex.position, max_length)
        packed.append(p)
        positions.append(at)
    out = _batch(packed, encoder, with_types=bert)
    out["positions"] = torch.tensor(positions, dtype=torch.long)  # (B,)
    out["labels"] = labels  # (B,)
    return out


def collate_classification(examples: Sequence[SpamMessage], encoder: Encoder,
                           label_to_id: Mapping[Any, int] | None = None,
                           max_length: int | None = None) -> dict[str, torch.Tensor]:
    """Labelled texts (``tokens``, ``label``) -> ``input_ids``, ``attention_mask`` (B, T), ``labels`` (B,).

    ``labels`` are the ``label`` fields (ints, e.g. spam 1 / not spam 0), or ``label_to_id[label]``.
    A ``WordPieceTokenizer`` adds ``[CLS] … [SEP]`` (the classifier reads ``[CLS]``) and ``token_type_ids``.
    """
    bert = isinstance(encoder, WordPieceTokenizer)
    _check_batch(examples, max_length, 2 if bert else 0, "collate_classification")
    labels = _labels([ex.label for ex in examples], label_to_id, "classification")
    packed = [_pack(encode_words(ex.tokens, encoder).ids, None, encoder, max_length, specials=bert)
              for ex in examples]
    out = _batch(packed, encoder, with_types=bert)
    out["labels"] = labels  # (B,)
    return out


# ---------------------------------------------------------------- two sentences


def collate_pairs(examples: Sequence[SentencePair] | Sequence[SameSensePair], tokenizer: Encoder,
                  max_length: int | None = None) -> dict[str, torch.Tensor]:
    """Sentence pairs -> ``[CLS] a [SEP] b [SEP]``: ``input_ids``, ``token_type_ids``, ``attention_mask`` (B, T),
    ``labels`` (B,), cut longest-first to ``max_length`` ids as ``WordPieceTokenizer.encode`` cuts a pair.

    - ``SentencePair`` (``tokens_a``, ``tokens_b``, ``is_next``): ``labels`` in BERT's convention,
      0 = IsNext (``b`` follows ``a``), 1 = NotNext, as Google's and Hugging Face's NSP head
      ``cls.seq_relationship`` counts, so a real checkpoint's head reads our labels unchanged.
    - a pair with a ``label`` of its own (``TopicPair``, ``EntailmentPair``): ``labels = label``.
    - ``SameSensePair`` (… ``position_a``, ``position_b``, ``same``): ``labels = same``, and
      ``positions_a``, ``positions_b`` (B,): where the first piece of each occurrence of the word stands
      in ``input_ids``; an occurrence cut off by ``max_length`` is an error.

    A ``Vocab`` works too: one id per word between its ``[CLS]`` and ``[SEP]`` ids.
    """
    name = "collate_pairs"
    _check_batch(examples, max_length, 3, name)
    senses = [hasattr(ex, "position_a") for ex in examples]
    if any(senses) and not all(senses):
        raise ValueError(f"{name}: a batch mixes SentencePair and SameSensePair examples: collate them apart")
    packed, positions = [], []
    for i, ex in enumerate(examples):
        a, b = encode_words(ex.tokens_a, tokenizer), encode_words(ex.tokens_b, tokenizer)
        p = _pack(a.ids, b.ids, tokenizer, max_length, specials=True)
        if senses[0]:
            at_a, at_b = _locate(a, ex.position_a, p, side=0), _locate(b, ex.position_b, p, side=1)
            if at_a is None or at_b is None:
                raise _cut_off(name, i, ex.word, ex.position_a if at_a is None else ex.position_b, max_length)
            positions.append((at_a, at_b))
        packed.append(p)
    out = _batch(packed, tokenizer, with_types=True)
    if senses[0]:
        out["positions_a"], out["positions_b"] = torch.tensor(positions, dtype=torch.long).unbind(1)  # (B,) each
    out["labels"] = torch.tensor([int(ex.same) if senses[0] else int(ex.label) if hasattr(ex, "label")
                                  else int(not ex.is_next) for ex in examples], dtype=torch.long)
    return out


def collate_qa(examples: Sequence[QAExample], tokenizer: Encoder,
               max_length: int | None = None) -> dict[str, torch.Tensor | list[list[int]]]:
    """Extractive QA -> ``[CLS] question [SEP] context [SEP]``: ``input_ids``, ``token_type_ids``,
    ``attention_mask`` (B, T), ``start_positions``, ``end_positions`` (B,), and ``word_index``.

    The answer ``context[start : end + 1]`` runs from the first piece of its first word to the last
    piece of its last word. No answer (``span=None``) points at ``[CLS]``: start = end = 0, BERT's
    SQuAD 2.0 convention; so does an answer that ``max_length`` (longest-first) cut off, even in part.
    ``word_index[b][t]`` (a list of B lists of T ints) is the context word of piece ``t``, -1 for the
    question, special tokens and padding: a predicted span ``(s, e)`` is the words
    ``context[word_index[b][s] : word_index[b][e] + 1]``.
    """
    name = "collate_qa"
    _check_batch(examples, max_length, 3, name)
    packed, starts, ends, word_index = [], [], [], []
    for i, ex in enumerate(examples):
        q, c = encode_words(ex.question, tokenizer), encode_words(ex.context, tokenizer)
        p = _pack(q.ids, c.ids, tokenizer, max_length, specials=True)
        start = end = 0
        if ex.span is not None:
            s, e = ex.span
            if not 0 <= s <= e < len(ex.context):
                raise ValueError(f"{name}: example {i} has span {ex.span} outside its {len(ex.context)} context words")
            last = _locate(c, e, p, side=1, last=True)
            if last is not None:  # the last piece kept means every piece of the answer is
                start, end = _locate(c, s, p, side=1), last
        row = [-1] * len(p.input_ids)
        offset, kept = p.offsets[1], p.kept[1]
        row[offset:offset + kept] = c.word_ids()[:kept]
        packed.append(p)
        starts.append(start)
        ends.append(end)
        word_index.append(row)
    out: dict[str, torch.Tensor | list[list[int]]] = dict(_batch(packed, tokenizer, with_types=True))
    T = out["input_ids"].shape[1]
    out["start_positions"] = torch.tensor(starts, dtype=torch.long)  # (B,)
    out["end_positions"] = torch.tensor(ends, dtype=torch.long)  # (B,)
    out["word_index"] = [row + [-1] * (T - len(row)) for row in word_index]  # B lists of T ints
    return out


def collate_seq2seq(examples: Sequence[Seq2SeqExample], vocab: Vocab) -> dict[str, torch.Tensor]:
    """Source/target pairs -> ``src_ids``, ``src_mask`` (B, T_src) and ``tgt_in``, ``tgt_out``, ``tgt_mask``
    (B, T_tgt), padded with ``[PAD]``, for a decoder trained with teacher forcing.

    ``tgt_in`` is ``<bos> target`` and ``tgt_out`` is ``target <eos>``: the same sequence shifted by one,
    so the decoder reading ``tgt_in[:, :t + 1]`` predicts ``tgt_out[:, t]``. ``tgt_mask`` marks the real
    positions of both (a loss may also skip ``pad_id`` with ``ignore_index``). With source ``a b`` and
    target ``b a``: ``tgt_in`` = ``<bos> b a``, ``tgt_out`` = ``b a <eos>``.
    """
    if not isinstance(vocab, Vocab):
        raise TypeError(f"collate_seq2seq needs a Vocab (for <bos> and <eos>), got {type(vocab).__name__}")
    _check_batch(examples, None, 0, "collate_seq2seq")
    src = [encode_words(ex.source, vocab).ids for ex in examples]
    tgt = [encode_words(ex.target, vocab).ids for ex in examples]
    src_ids, src_mask = pad_batch(src, vocab.pad_id)  # (B, T_src)
    tgt_in, tgt_mask = pad_batch([[vocab.bos_id, *t] for t in tgt], vocab.pad_id)  # (B, T_tgt)
    tgt_out, _ = pad_batch([[*t, vocab.eos_id] for t in tgt], vocab.pad_id)  # (B, T_tgt)
    return {"src_ids": src_ids, "src_mask": src_mask, "tgt_in": tgt_in, "tgt_out": tgt_out, "tgt_mask": tgt_mask}
