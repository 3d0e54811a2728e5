"""Words and vocabularies: ``word_tokenize`` and ``Vocab`` with the course's special tokens."""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping

from course_lib.arguments import check_int, check_optional_int, check_text
from course_lib.text._files import _check_unique, _read_utf8, _write_atomic

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "<bos>", "<eos>")
BERT_SPECIAL_TOKENS = SPECIAL_TOKENS[:5]
MAX_WORD_CHARS = 100  # BERT maps a longer word to [UNK] without trying to piece it


# ---------------------------------------------------------------- words and Vocab

_WORD_RE = re.compile(r"\w+(?:['\u2019]\w+)*|[^\w\s]")  # an apostrophe inside a word stays: "bank's"


def word_tokenize(text: str) -> list[str]:
    """Lower-case ``text`` and split it into words and single punctuation marks.

    >>> word_tokenize("The bank's river-side, closed!")
    ['the', "bank's", 'river', '-', 'side', ',', 'closed', '!']
    """
    if not isinstance(text, str):
        check_text(text, "text")
    return _WORD_RE.findall(text.lower())


class Vocab:
    """Token <-> id, with the special tokens ``SPECIAL_TOKENS`` at ids 0..6 and ``tokens`` after them.

    >>> v = Vocab.build([["the", "bank"], ["the", "river"]])
    >>> v.encode(["the", "river", "moon"])   # unknown -> [UNK] = 1
    [7, 9, 1]
    >>> v.decode([7, 8, 0])
    ['the', 'bank', '[PAD]']
    """

    pad_id, unk_id, cls_id, sep_id, mask_id, bos_id, eos_id = range(7)
    special_ids = frozenset(range(7))

    def __init__(self, tokens: Iterable[str] = ()) -> None:
        self.itos: list[str] = list(SPECIAL_TOKENS) + list(tokens)
        wrong = [t for t in self.itos if not isinstance(t, str)]
        if wrong:
            raise TypeError(f"Vocab tokens must be str, got {wrong[:3]!r}: decode bytes, str() other values")
        _check_unique(self.itos, "Vocab")
        self.stoi: dict[str, int] = {t: i for i, t in enumerate(self.itos)}

    @classmethod
    def build(cls, corpus: Mapping[str, int] | Iterable[str | Iterable[str]], min_freq: int = 1,
              max_size: int | None = None) -> Vocab:
        """Vocabulary of the tokens seen at least ``min_freq`` times, most frequent first (ties by token).

        ``corpus`` is a mapping token -> count, or an iterable whose items are tokens (``str``) or
        sentences (iterables of tokens). ``max_size`` caps ``len(vocab)``, special tokens included.
        """
        check_int(min_freq, "min_freq", minimum=1)
        check_optional_int(max_size, "max_size")
        if isinstance(corpus, (str, bytes)):
            raise TypeError(f"corpus must be sentences (lists of tokens), tokens, or a mapping token -> count, "
                            f"got a {type(corpus).__name__}: split it first, e.g. [word_tokenize(text)]")
        if max_size is not None and max_size < len(SPECIAL_TOKENS):
            raise ValueError(f"max_size={max_size} cannot hold the {len(SPECIAL_TOKENS)} special tokens: "
                             f"use max_size >= {len(SPECIAL_TOKENS)} or None")
        counts: Counter[str] = Counter()
        if isinstance(corpus, Mapping):
            counts.update(dict(corpus))
        else:
            for item in corpus:
                if isinstance(item, str):
                    counts[item] += 1
                elif isinstance(item, bytes) or not isinstance(item, Iterable):
                    raise TypeError(f"corpus items must be tokens (str) or sentences (lists of str), got "
                                    f"{type(item).__name__} {item!r:.60}")
                else:
                    counts.update(item)
        ranked = sorted((t for t, c in counts.items() if c >= min_freq and t not in SPECIAL_TOKENS),
                        key=lambda t: (-counts[t], t))
        if max_size is not None:
            ranked = ranked[: max_size - len(SPECIAL_TOKENS)]
        return cls(ranked)

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: object) -> bool:
        return token in self.stoi

    def __getitem__(self, token: str) -> int:
        return self.stoi.get(token, self.unk_id)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocab) and self.itos == other.itos

    def __repr__(self) -> str:
        return f"Vocab(size={len(self)}, first={self.itos[7:12]})"

    def token_to_id(self, token: str) -> int:
        """The token's id, ``unk_id`` when it is not in the vocabulary."""
        return self.stoi.get(token, self.unk_id)

    def id_to_token(self, index: int) -> str:
        if not 0 <= index < len(self.itos):
            raise IndexError(f"id {index} is outside this vocabulary of {len(self)} tokens")
        return self.itos[index]

    def encode(self, tokens: str | Iterable[str]) -> list[int]:
        """Ids of ``tokens``; a ``str`` is first split with ``word_tokenize``."""
        if isinstance(tokens, str):
            tokens = word_tokenize(tokens)
        elif isinstance(tokens, bytes) or not isinstance(tokens, Iterable):
            check_text(tokens, "tokens")  # raises: bytes (decode them) or not a text or tokens at all
        return [self.stoi.get(t, self.unk_id) for t in tokens]

    def decode(self, ids: Iterable[int], skip_special_tokens: bool = False) -> list[str]:
        ids = [int(i) for i in ids]
        return [self.id_to_token(i) for i in ids if not (skip_special_tokens and i in self.special_ids)]

    def save(self, path: str | os.PathLike) -> None:
        """Write the vocabulary as JSON (atomically: a temp file in the same folder, then a rename)."""
        doc = {"format": "course_lib.Vocab", "version": 1, "special_tokens": list(SPECIAL_TOKENS),
               "tokens": self.itos[len(SPECIAL_TOKENS):]}
        _write_atomic(path, json.dumps(doc, ensure_ascii=False, indent=0) + "\n", what="vocab file")

    @classmethod
    def load(cls, path: str | os.PathLike) -> Vocab:
        text = _read_utf8(path, "vocab file")
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as err:
            raise ValueError(f"vocab file {path} is not valid JSON (line {err.lineno}): {err.msg}; "
                             "write it with Vocab.save") from None
        if not isinstance(doc, dict) or doc.get("format") != "course_lib.Vocab":
            raise ValueError(f"{path} is not a Vocab file (no 'format': 'course_lib.Vocab'); write it with Vocab.save")
        if doc.get("special_tokens") != list(SPECIAL_TOKENS):
            raise ValueError(f"vocab file {path} has special tokens {doc.get('special_tokens')}, "
                             f"expected {list(SPECIAL_TOKENS)}")
        tokens = doc.get("tokens")
        if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
            raise ValueError(f"vocab file {path}: 'tokens' must be a list of strings")
        return cls(tokens)


