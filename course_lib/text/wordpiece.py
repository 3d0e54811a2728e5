"""BERT's basic tokenization and WordPiece: train, read/write ``vocab.txt``, tokenize, encode, decode.

Its tokens equal Hugging Face's Python ``BertTokenizer`` (``BertTokenizerLegacy`` in transformers 5)
on the same vocab file.
"""

from __future__ import annotations

import heapq
import math
import os
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from course_lib.arguments import check_int, check_optional_int, check_text
from course_lib.text._files import _check_unique, _read_utf8, _write_atomic
from course_lib.text.vocab import BERT_SPECIAL_TOKENS, MAX_WORD_CHARS

WORD_CACHE_SIZE = 200_000  # words WordPieceTokenizer.encode_word remembers before it starts afresh

Item = TypeVar("Item")

# ---------------------------------------------------------------- BERT's basic tokenization

_CJK_RE = re.compile("[\u4e00-\u9fff\u3400-\u4dbf\uf900-\ufaff\U00020000-\U0002a6df\U0002a700-\U0002b73f"
                     "\U0002b740-\U0002b81f\U0002b820-\U0002ceaf\U0002f800-\U0002fa1f]")
_ASCII_WORD_RE = re.compile(r"[a-z0-9]+|[^a-z0-9\s]")  # in ASCII, what is not alphanumeric or space is punctuation
_ASCII_CLEAN = {cp: None for cp in [*range(32), 127] if chr(cp) not in "\t\n\r"} | {ord(c): " " for c in "\t\n\r"}


class _CleanTable(dict):
    """``str.translate`` table, filled on demand: drop NUL, U+FFFD and control characters (category C*),
    turn whitespace (space, tab, newline, CR, category Zs) into a space, keep the rest."""

    def __missing__(self, cp: int) -> str | None:
        ch = chr(cp)
        category = unicodedata.category(ch)
        if ch in " \t\n\r" or category == "Zs":
            value: str | None = " "
        elif cp == 0 or cp == 0xFFFD or category.startswith("C"):
            value = None
        else:
            value = ch
        self[cp] = value
        return value


_CLEAN = _CleanTable()
_PUNCT_CACHE: dict[str, bool] = {}


def _is_punctuation(ch: str) -> bool:
    """BERT's rule: all non-alphanumeric ASCII symbols ($, ^, ` …) and every Unicode category P*."""
    known = _PUNCT_CACHE.get(ch)
    if known is None:
        cp = ord(ch)
        known = 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126 \
            or unicodedata.category(ch).startswith("P")
        _PUNCT_CACHE[ch] = known
    return known


def _split_punctuation(word: str) -> list[str]:
    """``"a.b!!"`` -> ``["a", ".", "b", "!", "!"]``: every punctuation character is a token of its own."""
    if word.isascii():
        return _ASCII_WORD_RE.findall(word)
    out, current = [], []
    for ch in word:
        if _is_punctuation(ch):
            if current:
                out.append("".join(current))
                current = []
            out.append(ch)
        else:
            current.append(ch)
    if current:
        out.append("".join(current))
    return out


def _strip_accents(word: str) -> str:
    """Decompose (NFD) and drop the combining marks (category Mn): ``"café"`` -> ``"cafe"``."""
    return "".join(ch for ch in unicodedata.normalize("NFD", word) if unicodedata.category(ch) != "Mn")


def basic_tokenize(text: str, never_split: Iterable[str] = ()) -> list[str]:
    """BERT's basic tokenization (uncased): clean, space out CJK characters, NFC, split on whitespace,
    lower-case, strip accents, split off punctuation. A whitespace token in ``never_split`` is kept as is.

    >>> basic_tokenize("Héllo,  WORLD!! 中文")
    ['hello', ',', 'world', '!', '!', '中', '文']
    """
    if not isinstance(text, str):
        check_text(text, "text")
    if text.isascii():
        text = text.translate(_ASCII_CLEAN)
        if not any(t in text for t in never_split):  # fast path: only lower-casing and a regex left to do
            return _ASCII_WORD_RE.findall(text.lower())
    never_split = set(never_split)
    text = _CJK_RE.sub(r" \g<0> ", text.translate(_CLEAN))
    out: list[str] = []
    for token in unicodedata.normalize("NFC", text).split():
        if token in never_split:
            out.append(token)
            continue
        token = token.lower()
        if not token.isascii():
            token = _strip_accents(token)
        out.extend(piece for part in _split_punctuation(token) for piece in part.split())
    return out


# ---------------------------------------------------------------- WordPiece


@dataclass
class Encoding:
    """One encoded example: ``[CLS] a [SEP]`` or ``[CLS] a [SEP] b [SEP]``; all lists have the same length."""

    input_ids: list[int]
    token_type_ids: list[int]  # 0 for [CLS] a [SEP], 1 for b [SEP]
    attention_mask: list[int]  # all 1: padding happens when batching (pad_batch)
    tokens: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.input_ids)


def truncate_longest_first(a: list[Item], b: list[Item] | None, budget: int) -> tuple[list[Item], list[Item] | None]:
    """Cut ``a`` (and ``b``) to at most ``budget`` ids in all, dropping the last id of the longer one
    (of ``b`` on a tie) until they fit: Hugging Face's ``longest_first``. Without ``b``, cut ``a``.

    >>> truncate_longest_first([1, 2, 3, 4], [5, 6], 4)
    ([1, 2], [5, 6])
    """
    if b is None:
        return a[:max(budget, 0)], None
    excess = len(a) + len(b) - budget
    if excess <= 0:
        return a, b
    first = min(abs(len(a) - len(b)), excess)  # make them equal, then take turns, b first
    rest = excess - first
    cut_a, cut_b = (first + rest // 2, rest - rest // 2) if len(a) > len(b) else (rest // 2, first + rest - rest // 2)
    return a[:len(a) - cut_a], b[:len(b) - cut_b]


class WordPieceTokenizer:
    """BERT's uncased WordPiece tokenizer over a vocabulary whose id is the token's position.

    >>> tok = WordPieceTokenizer(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "un", "##aff", "##able"])
    >>> tok.tokenize("Unaffable able")
    ['un', '##aff', '##able', '[UNK]']
    >>> tok.encode("unaffable").input_ids
    [2, 5, 6, 7, 3]
    """

    def __init__(self, tokens: Sequence[str], *, source: str = "the vocabulary") -> None:
        """``tokens[i]`` gets id ``i``; ``source`` names them in error messages."""
        tokens = list(tokens)
        _check_unique(tokens, source)
        missing = [t for t in BERT_SPECIAL_TOKENS if t not in set(tokens)]
        if missing:
            raise ValueError(f"{source} lacks the special tokens {missing}: BERT needs all of "
                             f"{list(BERT_SPECIAL_TOKENS)}; add each on a line of its own")
        self.ids_to_tokens: list[str] = tokens
        self.vocab: dict[str, int] = {t: i for i, t in enumerate(tokens)}
        self.pad_token_id, self.unk_token_id, self.cls_token_id, self.sep_token_id, self.mask_token_id = (
            self.vocab[t] for t in BERT_SPECIAL_TOKENS)
        self.special_ids = frozenset(self.vocab[t] for t in BERT_SPECIAL_TOKENS)
        # the longest piece bounds the greedy search: no need to try longer substrings
        self._max_first = max((len(t) for t in tokens if not t.startswith("##")), default=1)
        self._max_next = max((len(t) - 2 for t in tokens if t.startswith("##")), default=1)
        self._special_re = re.compile("(" + "|".join(map(re.escape, BERT_SPECIAL_TOKENS)) + ")")
        self._word_ids: dict[str, tuple[int, ...]] = {}  # encode_word's memory

    @property
    def vocab_size(self) -> int:
        return len(self.ids_to_tokens)

    def __len__(self) -> int:
        return len(self.ids_to_tokens)

    def __repr__(self) -> str:
        return f"WordPieceTokenizer(vocab_size={self.vocab_size})"

    # -- files

    @classmethod
    def from_vocab_file(cls, path: str | os.PathLike) -> WordPieceTokenizer:
        """Read BERT's ``vocab.txt``: one token per line, id = line number - 1."""
        text = _read_utf8(path, "vocab file")
        lines = re.split(r"\r\n|\r|\n", text)  # the newlines Python's text mode knows, as Hugging Face reads it
        if lines and lines[-1] == "":
            lines.pop()
        if not lines:
            raise ValueError(f"vocab file {path} is empty: write one token per line (see save_vocab)")
        for number, line in enumerate(lines, start=1):
            if line == "":
                raise ValueError(f"vocab file {path} has an empty line {number}: one token per line, none empty")
        _check_unique(lines, f"vocab file {path}", unit="lines", start=1)
        return cls(lines, source=f"vocab file {path}")

    def save_vocab(self, path: str | os.PathLike) -> None:
        """Write ``vocab.txt`` (one token per line) atomically: temp file in the same folder, then rename."""
        _write_atomic(path, "".join(t + "\n" for t in self.ids_to_tokens), what="vocab file")

    # -- tokens

    def _pieces(self, word: str) -> list[str]:
        """Greedy longest-match-first: ``"unaffable"`` -> ``["un", "##aff", "##able"]``, or ``["[UNK]"]``."""
        n = len(word)
        if n > MAX_WORD_CHARS:
            return ["[UNK]"]
        pieces, start, vocab = [], 0, self.vocab
        while start < n:
            end = min(n, start + (self._max_first if start == 0 else self._max_next))
            while end > start:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in vocab:
                    break
                end -= 1
            else:  # no piece fits at ``start``: the whole word is unknown
                return ["[UNK]"]
            pieces.append(piece)
            start = end
        return pieces

    def tokenize(self, text: str) -> list[str]:
        """Basic tokenization, then WordPiece; special tokens written in the text stay whole.

        >>> WordPieceTokenizer(list(BERT_SPECIAL_TOKENS) + ["a", "##b"]).tokenize("AB [MASK] ab!")
        ['a', '##b', '[MASK]', 'a', '##b', '[UNK]']
        """
        if not isinstance(text, str):
            check_text(text, "text")
        out: list[str] = []
        memo: dict[str, list[str]] = {}  # words repeat (Zipf): piece each one once per call
        for i, chunk in enumerate(self._special_re.split(text)):
            if i % 2:  # the splitting regex captures the special tokens at odd positions
                out.append(chunk)
                continue
            for word in basic_tokenize(chunk, never_split=BERT_SPECIAL_TOKENS):
                pieces = memo.get(word)
                if pieces is None:
                    pieces = memo[word] = [word] if word in BERT_SPECIAL_TOKENS else self._pieces(word)
                out.extend(pieces)
        return out

    def encode_word(self, word: str) -> tuple[int, ...]:
        """The ids of one word's pieces, as ``tokenize(word)`` gives them (``[UNK]`` when it has none).

        Remembered per word: a corpus repeats its words, and collating pre-training batches pieces
        every word of every sentence again each epoch.

        >>> WordPieceTokenizer(list(BERT_SPECIAL_TOKENS) + ["a", "##b"]).encode_word("ab")
        (5, 6)
        """
        ids = self._word_ids.get(word) if isinstance(word, str) else check_text(word, "word")
        if ids is None:
            if len(self._word_ids) >= WORD_CACHE_SIZE:
                self._word_ids.clear()
            # a "word" of only spaces or control characters has no pieces: [UNK] keeps it a position to label
            ids = tuple(self.convert_tokens_to_ids(self.tokenize(word))) or (self.unk_token_id,)
            self._word_ids[word] = ids
        return ids

    def convert_tokens_to_ids(self, tokens: Iterable[str]) -> list[int]:
        unk, vocab = self.unk_token_id, self.vocab
        return [vocab.get(t, unk) for t in tokens]

    def convert_ids_to_tokens(self, ids: Iterable[int]) -> list[str]:
        out = []
        for i in ids:
            i = int(i)
            if not 0 <= i < len(self.ids_to_tokens):
                raise IndexError(f"id {i} is outside this vocabulary of {self.vocab_size} tokens")
            out.append(self.ids_to_tokens[i])
        return out

    def encode(self, text: str, pair: str | None = None, max_length: int | None = None) -> Encoding:
        """``[CLS] text [SEP]`` or ``[CLS] text [SEP] pair [SEP]``, cut longest-first to ``max_length`` ids.

        >>> tok = WordPieceTokenizer(list(BERT_SPECIAL_TOKENS) + ["a", "b"])
        >>> e = tok.encode("a a a", "b", max_length=5); e.tokens, e.token_type_ids
        (['[CLS]', 'a', '[SEP]', 'b', '[SEP]'], [0, 0, 0, 1, 1])
        """
        n_special = 2 if pair is None else 3
        check_text(text, "text")
        if pair is not None:
            check_text(pair, "pair")
        check_optional_int(max_length, "max_length")
        if max_length is not None and max_length < n_special:
            raise ValueError(f"max_length={max_length} cannot hold the {n_special} special tokens of "
                             f"{'a pair' if pair is not None else 'one text'}: use max_length >= {n_special}")
        a = self.tokenize(text)
        b = self.tokenize(pair) if pair is not None else None
        if max_length is not None:
            a, b = truncate_longest_first(a, b, max_length - n_special)
        tokens = ["[CLS]", *a, "[SEP]"]
        types = [0] * len(tokens)
        if b is not None:
            tokens += [*b, "[SEP]"]
            types += [1] * (len(b) + 1)
        return Encoding(self.convert_tokens_to_ids(tokens), types, [1] * len(tokens), tokens)

    def decode(self, ids: Iterable[int], skip_special_tokens: bool = True) -> str:
        """Tokens joined by spaces, ``##`` pieces glued to the piece before them.

        >>> tok = WordPieceTokenizer(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "un", "##aff", "##able"])
        >>> tok.decode([2, 5, 6, 7, 3])
        'unaffable'
        """
        ids = [int(i) for i in ids]
        words: list[str] = []
        for i, token in zip(ids, self.convert_ids_to_tokens(ids), strict=True):
            if skip_special_tokens and i in self.special_ids:
                continue
            if token.startswith("##") and words:
                words[-1] += token[2:]
            else:
                words.append(token)
        return " ".join(words)

    # -- training

    @classmethod
    def train(cls, texts: Iterable[str], vocab_size: int, min_frequency: int = 2,
              criterion: str = "likelihood") -> WordPieceTokenizer:
        """Learn a WordPiece vocabulary of at most ``vocab_size`` tokens from ``texts``.

        Start from the characters (``"bank"`` -> ``b ##a ##n ##k``), then repeatedly merge the adjacent
        pair (among pairs seen at least ``min_frequency`` times) that scores highest:

        - ``"likelihood"``: the gain in log-likelihood of the corpus under a unigram model of the
          pieces, the criterion of Schuster & Nakajima (2012): frequent pairs of parts that rarely
          occur apart; frequent words end up whole.
        - ``"pmi"``: freq(ab) / (freq(a) * freq(b)), the score in Hugging Face's course; it favours
          pairs of rare parts, so rare words are merged before frequent ones.

        Stops at ``vocab_size`` or when no pair is left. The vocabulary is the 5 special tokens, the
        characters (word-initial, then ``##`` continuations), then the merged pieces in order.

        >>> tok = WordPieceTokenizer.train(["low lower lowest"] * 5, vocab_size=17)
        >>> tok.ids_to_tokens[12:], tok.tokenize("lowest")
        (['##ow', 'low', '##st', 'lowe', 'lower'], ['lowe', '##st'])
        """
        if criterion not in ("likelihood", "pmi"):
            raise ValueError(f"criterion must be 'likelihood' or 'pmi', got {criterion!r}")
        check_int(vocab_size, "vocab_size", minimum=1)
        check_int(min_frequency, "min_frequency", minimum=1)
        if isinstance(texts, (str, bytes)):
            raise TypeError("texts must be an iterable of texts, got a single "
                            f"{type(texts).__name__}: wrap it in a list, [text]")
        words = Counter(w for text in texts for w in basic_tokenize(text) if len(w) <= MAX_WORD_CHARS)
        if not words:
            raise ValueError("WordPiece.train got no words: pass a non-empty iterable of non-empty texts")
        segmented = [[w[0], *("##" + ch for ch in w[1:])] for w in words]
        alphabet = sorted({p for pieces in segmented for p in pieces}, key=lambda p: (p.startswith("##"), p))
        base = len(BERT_SPECIAL_TOKENS) + len(alphabet)
        if vocab_size < base:
            raise ValueError(f"vocab_size={vocab_size} is smaller than the 5 special tokens plus the "
                             f"{len(alphabet)} characters (and ## continuations) of the corpus: "
                             f"use vocab_size >= {base}")
        merges = _learn_merges(segmented, list(words.values()), vocab_size - base, min_frequency, criterion)
        return cls([*BERT_SPECIAL_TOKENS, *alphabet, *merges])


def _xlogx(x: float) -> float:
    return x * math.log(x) if x > 0 else 0.0


def _merge_pair(pieces: list[str], a: str, b: str, new: str) -> list[str]:
    """``["b", "##a", "##n", "##k"]`` with ``("##a", "##n") -> "##an"`` gives ``["b", "##an", "##k"]``."""
    merged, i = [], 0
    while i < len(pieces):
        if i + 1 < len(pieces) and pieces[i] == a and pieces[i + 1] == b:
            merged.append(new)
            i += 2
        else:
            merged.append(pieces[i])
            i += 1
    return merged


def _learn_merges(words: list[list[str]], counts: list[int], n_merges: int, min_frequency: int,
                  criterion: str) -> list[str]:
    """Up to ``n_merges`` new pieces, best score first; ``words`` (pieces of each word type) change in place.

    A lazy max-heap: each time a pair's count or one of its parts' counts changes, a fresh entry
    is pushed. Stored scores are upper bounds of current ones (the likelihood gain only falls as
    the corpus total shrinks), so a popped pair is taken when its current score still beats the
    next stored one, and pushed back with its current score otherwise.
    """
    piece_count: Counter[str] = Counter()
    pair_count: Counter[tuple[str, str]] = Counter()
    pair_words: defaultdict[tuple[str, str], set[int]] = defaultdict(set)
    piece_pairs: defaultdict[str, set[tuple[str, str]]] = defaultdict(set)
    for w, (pieces, c) in enumerate(zip(words, counts, strict=True)):
        for p in pieces:
            piece_count[p] += c
        for pair in zip(pieces, pieces[1:], strict=False):
            pair_count[pair] += c
            pair_words[pair].add(w)
            piece_pairs[pair[0]].add(pair)
            piece_pairs[pair[1]].add(pair)
    total = sum(piece_count.values())

    def score(pair: tuple[str, str]) -> float:
        a, b = pair
        ab, ca, cb = pair_count[pair], piece_count[a], piece_count[b]
        if criterion == "pmi":
            return ab / (ca * cb)
        # log L = sum_p c_p log(c_p / N) = sum_p xlogx(c_p) - xlogx(N); merging moves ab counts to the new piece
        parts = _xlogx(ca - 2 * ab) - _xlogx(ca) if a == b else \
            _xlogx(ca - ab) - _xlogx(ca) + _xlogx(cb - ab) - _xlogx(cb)
        return parts + _xlogx(ab) + _xlogx(total) - _xlogx(total - ab)

    heap = [(-score(p), p) for p, c in pair_count.items() if c >= min_frequency]
    heapq.heapify(heap)
    merges: list[str] = []
    known = set(piece_count)
    while heap and len(merges) < n_merges:
        _, (a, b) = heapq.heappop(heap)
        if pair_count[(a, b)] < min_frequency:
            continue  # an entry for a pair that is gone
        current = score((a, b))
        if heap and current < -heap[0][0]:
            heapq.heappush(heap, (-current, (a, b)))
            continue
        new = a + b[2:]
        touched: set[tuple[str, str]] = set()
        for w in sorted(pair_words.pop((a, b))):
            old, c = words[w], counts[w]
            merged = _merge_pair(old, a, b, new)
            total -= (len(old) - len(merged)) * c
            for sign, pieces in ((-1, old), (1, merged)):  # retract the old segmentation, add the new one
                for p in pieces:
                    piece_count[p] += sign * c
                for pair in zip(pieces, pieces[1:], strict=False):
                    pair_count[pair] += sign * c
                    touched.add(pair)
            for pair in zip(old, old[1:], strict=False):
                pair_words[pair].discard(w)
            for pair in zip(merged, merged[1:], strict=False):
                pair_words[pair].add(w)
                piece_pairs[pair[0]].add(pair)
                piece_pairs[pair[1]].add(pair)
            words[w] = merged
        if new not in known:
            known.add(new)
            merges.append(new)
        for p in (a, b, new):
            touched |= piece_pairs[p]
        for pair in touched:
            if pair_count[pair] <= 0:
                del pair_count[pair]
                piece_pairs[pair[0]].discard(pair)
                piece_pairs[pair[1]].discard(pair)
                pair_words.pop(pair, None)
            elif pair_count[pair] >= min_frequency:
                heapq.heappush(heap, (-score(pair), pair))
    return merges


