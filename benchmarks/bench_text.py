"""WordPiece tokenization: ours vs Hugging Face's Python BertTokenizer, same text, same vocab file.

The text is ~20k words of generated English-like sentences (made-up words with a Zipf law, capitals,
accents, punctuation); the vocab file is our WordPiece trained on it (2000 tokens). The reference is
the Python tokenizer (``BertTokenizerLegacy`` in transformers 5, ``BertTokenizer`` before); a second
row shows the Rust ``BertTokenizer`` of transformers 5 for scale. Both outputs are checked equal
to ours before timing. A third row times training a 2000-token vocabulary on ~100k words against
the Rust ``tokenizers`` WordPieceTrainer (a different merge rule: pair counts, as in BPE). A last row
times ``pad_batch`` (every batch of the course goes through it) against PyTorch's ``pad_sequence``.
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the harness, also when run as a script

from harness import Row, measure_pair  # noqa: E402

from course_lib.text import WordPieceTokenizer  # noqa: E402

VOCAB_SIZE = 2000


def generated_text(n_words: int, seed: int = 0) -> str:
    """Sentences of made-up words (Zipf-distributed), some capitalized and accented, with punctuation."""
    rng = random.Random(seed)
    syllables = ["ba", "nk", "ri", "ver", "mo", "ney", "ca", "fé", "un", "aff", "able", "ing", "er", "s",
                 "tion", "pre", "ed", "ly", "ö", "st", "tha", "re", "in", "o", "ou"]
    lexicon = ["".join(rng.choice(syllables) for _ in range(rng.randint(1, 4))) for _ in range(5000)]
    words = rng.choices(lexicon, [1 / (rank + 1) for rank in range(len(lexicon))], k=n_words)
    out = []
    for i, word in enumerate(words):
        out.append(word.capitalize() if i % 12 == 0 else word)
        out.append(". " if i % 12 == 11 else ", " if i % 7 == 3 else " ")
    return "".join(out)


def _python_reference():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        import transformers
    except ImportError as err:
        raise ImportError("transformers is not installed: pip install -e '.[ref]'") from err
    try:
        from transformers.models.bert.tokenization_bert_legacy import BertTokenizerLegacy
        return BertTokenizerLegacy, transformers.BertTokenizer  # 5.x: the Python one, and the Rust one
    except ImportError:
        return transformers.BertTokenizer, None  # 4.x: BertTokenizer is the Python one


def rows() -> Iterator[Row]:
    python_cls, rust_cls = _python_reference()
    text = generated_text(20_000)
    ours = WordPieceTokenizer.train(text.split(". "), vocab_size=VOCAB_SIZE)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "vocab.txt")
        ours.save_vocab(path)
        ours = WordPieceTokenizer.from_vocab_file(path)
        reference = python_cls(path, do_lower_case=True)
        rust = rust_cls(path, do_lower_case=True) if rust_cls is not None else None
    tokens = ours.tokenize(text)
    if reference.tokenize(text) != tokens:
        raise AssertionError(f"{python_cls.__name__} tokenizes the benchmark text differently from ours")
    what = f"WordPiece tokenize, {len(text.split())} words, V={ours.vocab_size}"
    ours_ms, ref_ms = measure_pair(lambda: ours.tokenize(text), lambda: reference.tokenize(text), repeats=5, warmup=1)
    yield Row(what, ours_ms, ref_ms, "ms", f"vs {python_cls.__name__} (Python); {len(tokens)} tokens")
    if rust is not None and rust.tokenize(text) == tokens:
        ours_ms, rust_ms = measure_pair(lambda: ours.tokenize(text), lambda: rust.tokenize(text), repeats=5, warmup=1)
        yield Row(what, ours_ms, rust_ms, "ms", f"vs {rust_cls.__name__} (Rust tokenizers), for scale")
    big = generated_text(100_000, seed=1).split(". ")
    ours_s, rust_s = measure_pair(lambda: WordPieceTokenizer.train(big, vocab_size=VOCAB_SIZE),
                                  lambda: _train_rust(big), repeats=3, warmup=0)
    yield Row(f"WordPiece train, 100k words, V={VOCAB_SIZE}", ours_s / 1e3, rust_s / 1e3, "s",
              "vs tokenizers WordPieceTrainer (Rust; count-based merges)")
    yield from pad_rows()


def pad_rows() -> Iterator[Row]:
    """``pad_batch`` (ids and mask) against ``torch.nn.utils.rnn.pad_sequence`` on the same id lists."""
    import torch
    from torch.nn.utils.rnn import pad_sequence

    from course_lib.text import pad_batch

    rng = random.Random(0)
    sequences = [[rng.randrange(2000) for _ in range(rng.randint(5, 64))] for _ in range(15_000)]

    def reference():
        ids = pad_sequence([torch.tensor(s) for s in sequences], batch_first=True, padding_value=0)
        lengths = torch.tensor([len(s) for s in sequences])
        return ids, (torch.arange(ids.shape[1]) < lengths[:, None]).long()

    ours_ids, ours_mask = pad_batch(sequences, 0)
    ref_ids, ref_mask = reference()
    if not (torch.equal(ours_ids, ref_ids) and torch.equal(ours_mask, ref_mask)):
        raise AssertionError("pad_batch pads differently from pad_sequence")
    ours_ms, ref_ms = measure_pair(lambda: pad_batch(sequences, 0), reference, repeats=5, warmup=1)
    yield Row("pad_batch, 15000 id lists of 5-64 (ids + mask)", ours_ms, ref_ms, "ms",
              "vs torch pad_sequence from per-list tensors, plus the mask")


def _train_rust(texts: list[str]) -> object:
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True, strip_accents=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(vocab_size=VOCAB_SIZE, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]",
                                                                                "[MASK]"], show_progress=False)
    tokenizer.train_from_iterator(texts, trainer)
    return tokenizer
