"""Tests of course_lib.text: words and Vocab, BERT's basic tokenization, WordPiece (hand-worked
examples, properties, equivalence with Hugging Face's Python BertTokenizer), batching."""

from __future__ import annotations

import json
import os
import random

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from course_lib.text import (
    BERT_SPECIAL_TOKENS,
    SPECIAL_TOKENS,
    Vocab,
    WordPieceTokenizer,
    basic_tokenize,
    collate_tokens,
    length_buckets,
    pad_batch,
    truncate_longest_first,
    word_tokenize,
)

SPECIALS = list(BERT_SPECIAL_TOKENS)
UNAFFABLE = WordPieceTokenizer([*SPECIALS, "un", "##aff", "##able", "##ab", "a", "##a", "ff"])


def synthetic_texts(n_sentences: int, seed: int = 0) -> list[str]:
    """English-like sentences from made-up words, with capitals, accents, CJK and punctuation."""
    rng = random.Random(seed)
    syllables = ["ba", "nk", "ri", "ver", "mo", "ney", "ca", "fé", "un", "aff", "able", "ing", "er", "s",
                 "tion", "pre", "ed", "ly", "ö", "st", "中", "ñ"]
    lexicon = ["".join(rng.choice(syllables) for _ in range(rng.randint(1, 4))) for _ in range(500)]
    weights = [1 / (rank + 1) for rank in range(len(lexicon))]  # Zipf
    sentences = []
    for _ in range(n_sentences):
        words = rng.choices(lexicon, weights, k=rng.randint(3, 12))
        words[0] = words[0].capitalize()
        sentences.append(" ".join(words) + rng.choice([".", "!", "?", "...", ", (right)."]))
    return sentences


@pytest.fixture(scope="module")
def trained() -> WordPieceTokenizer:
    return WordPieceTokenizer.train(synthetic_texts(400), vocab_size=300)


# ---------------------------------------------------------------- words and Vocab


def test_word_tokenize_lowercases_and_splits_punctuation():
    assert word_tokenize("The bank's river-side, closed!") == ["the", "bank's", "river", "-", "side", ",",
                                                                "closed", "!"]
    assert word_tokenize("  \n ") == []


def test_vocab_special_tokens_have_fixed_ids():
    v = Vocab.build([["the", "bank"]])
    assert v.itos[:7] == list(SPECIAL_TOKENS)
    assert (v.pad_id, v.unk_id, v.cls_id, v.sep_id, v.mask_id, v.bos_id, v.eos_id) == tuple(range(7))
    assert [v.token_to_id(t) for t in SPECIAL_TOKENS] == list(range(7))


def test_vocab_build_orders_by_frequency_then_token_and_applies_min_freq_and_max_size():
    corpus = [["b", "a", "c", "c"], ["a", "c", "d"], "e"]  # counts: c 3, a 2, b 1, d 1, e 1
    assert Vocab.build(corpus).itos[7:] == ["c", "a", "b", "d", "e"]
    assert Vocab.build(corpus, min_freq=2).itos[7:] == ["c", "a"]
    small = Vocab.build(corpus, max_size=9)
    assert len(small) == 9 and small.itos[7:] == ["c", "a"]
    assert Vocab.build({"x": 5, "y": 7, "[PAD]": 100}).itos[7:] == ["y", "x"]  # a special is not repeated


def test_vocab_encode_decode_contains_len():
    v = Vocab.build([["the", "bank"], ["the", "river"]])
    assert len(v) == 10 and "bank" in v and "moon" not in v
    ids = v.encode(["the", "river", "moon"])
    assert ids == [7, 9, v.unk_id]
    assert v.encode("The river, moon") == [7, 9, 1, 1]
    assert v.decode(ids) == ["the", "river", "[UNK]"]
    assert v.decode([0, 7, 6], skip_special_tokens=True) == ["the"]
    assert v["bank"] == 8 and v["moon"] == 1
    with pytest.raises(IndexError, match="outside"):
        v.id_to_token(10)


@given(st.lists(st.lists(st.text(min_size=1, max_size=6), max_size=8), max_size=10),
       st.integers(1, 3), st.one_of(st.none(), st.integers(7, 20)))
@settings(max_examples=40, deadline=None)
def test_vocab_properties(corpus, min_freq, max_size):
    v = Vocab.build(corpus, min_freq=min_freq, max_size=max_size)
    counts: dict[str, int] = {}
    for sentence in corpus:
        for t in sentence:
            counts[t] = counts.get(t, 0) + 1
    assert max_size is None or len(v) <= max_size
    assert len(set(v.itos)) == len(v)
    for t in v.itos[7:]:
        assert counts[t] >= min_freq
    kept = [counts[t] for t in v.itos[7:]]
    assert kept == sorted(kept, reverse=True)
    if max_size is None:
        assert {t for t, c in counts.items() if c >= min_freq} - set(SPECIAL_TOKENS) == set(v.itos[7:])
    assert v.decode(v.encode(v.itos)) == v.itos


def test_vocab_json_round_trip(tmp_path):
    v = Vocab.build([["the", "bänk", "中", "'"], ["the"]])
    path = tmp_path / "vocab.json"
    v.save(path)
    assert Vocab.load(path) == v
    assert json.loads(path.read_text(encoding="utf-8"))["tokens"] == ["the", "'", "bänk", "中"]
    assert os.listdir(tmp_path) == ["vocab.json"]  # no temp file left


def test_vocab_save_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "vocab.json"
    Vocab.build([["old"]]).save(path)
    before = path.read_bytes()

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        Vocab.build([["new"]]).save(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["vocab.json"]


def test_vocab_bad_input(tmp_path):
    with pytest.raises(ValueError, match="duplicate token 'a' on ids 7 and 8"):
        Vocab(["a", "a"])
    with pytest.raises(ValueError, match=r"duplicate token '\[PAD\]'"):
        Vocab(["[PAD]"])
    with pytest.raises(ValueError, match="min_freq"):
        Vocab.build([["a"]], min_freq=0)
    with pytest.raises(ValueError, match="max_size=3"):
        Vocab.build([["a"]], max_size=3)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match="not valid JSON"):
        Vocab.load(bad)
    bad.write_text(json.dumps({"format": "course_lib.Vocab", "special_tokens": list(SPECIAL_TOKENS),
                               "tokens": ["x", "y", "x"]}), encoding="utf-8")
    with pytest.raises(ValueError, match="duplicate token 'x'"):
        Vocab.load(bad)
    bad.write_bytes(b'{"format":\n "course_lib.Vocab",\n "tokens": ["\xff"]}')
    with pytest.raises(ValueError, match=r"bad.json is not UTF-8: bad byte at line 3"):
        Vocab.load(bad)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        Vocab.load(tmp_path / "missing.json")


# ---------------------------------------------------------------- basic tokenization and WordPiece by hand


@pytest.mark.parametrize("text, expected", [
    ("Héllo,  WORLD!!", ["hello", ",", "world", "!", "!"]),
    ("中文abc", ["中", "文", "abc"]),
    ("a\x00b\tc\u200bd", ["ab", "cd"]),  # NUL and U+200B (category Cf) dropped, tab is a space
    ("", []),
    (" \n\t ", []),
    ("$5^2`~", ["$", "5", "^", "2", "`", "~"]),  # ASCII symbols count as punctuation
    ("«ÅNGSTRÖM»", ["«", "angstrom", "»"]),
    ("\u0301\u0301 e\u0301", ["e"]),  # a word of combining marks only vanishes
])
def test_basic_tokenize_hand_examples(text, expected):
    assert basic_tokenize(text) == expected


def test_basic_tokenize_never_split_keeps_whole_whitespace_tokens():
    # a whole whitespace token only: "THIS!" is lower-cased and split as usual
    assert basic_tokenize("keep THIS not THIS!", never_split=["THIS"]) == ["keep", "THIS", "not", "this", "!"]
    assert basic_tokenize("[CL\x00S] x", never_split=["[CLS]"]) == ["[CLS]", "x"]  # as Hugging Face: after cleaning


@pytest.mark.parametrize("text, expected", [
    ("unaffable", ["un", "##aff", "##able"]),
    ("UNAFFABLE!", ["un", "##aff", "##able", "[UNK]"]),  # "!" is not in the vocabulary
    ("unable", ["un", "##able"]),  # longest first: not "##ab" or "##a"
    ("unab", ["un", "##ab"]),
    ("unax", ["[UNK]"]),  # "un" "##a", then "x" fits nowhere: the whole word is unknown
    ("ff", ["ff"]),
    ("a" * 100, ["a"] + ["##a"] * 99),
    ("a" * 101, ["[UNK]"]),  # longer than 100 characters
    ("una [MASK] aa", ["un", "##a", "[MASK]", "a", "##a"]),
    ("", []),
])
def test_wordpiece_hand_examples(text, expected):
    assert UNAFFABLE.tokenize(text) == expected


def test_special_ids_and_convert():
    tok = UNAFFABLE
    assert (tok.pad_token_id, tok.unk_token_id, tok.cls_token_id, tok.sep_token_id, tok.mask_token_id) == (
        0, 1, 2, 3, 4)
    assert tok.special_ids == frozenset(range(5)) and tok.vocab_size == len(tok) == 12
    assert tok.convert_tokens_to_ids(["un", "##aff", "zebra"]) == [5, 6, 1]
    assert tok.convert_ids_to_tokens([5, 6]) == ["un", "##aff"]
    with pytest.raises(IndexError, match="outside"):
        tok.convert_ids_to_tokens([12])


@pytest.mark.parametrize("word", ["unaffable", "UNA", "a" * 101, "zebra", "[MASK]", "   ", "un-a"])
def test_encode_word_is_tokenize_then_ids_and_remembers(word, monkeypatch):
    tok = WordPieceTokenizer([*SPECIALS, "un", "##aff", "##able", "##ab", "a", "##a", "ff"])
    expected = tuple(tok.convert_tokens_to_ids(tok.tokenize(word))) or (tok.unk_token_id,)
    assert tok.encode_word(word) == expected
    assert tok.encode_word(word) is tok.encode_word(word)  # the second call reads the memory
    monkeypatch.setattr("course_lib.text.wordpiece.WORD_CACHE_SIZE", 2)
    for other in ("a", "ff", "un"):  # past the bound the memory starts afresh
        tok.encode_word(other)
    assert len(tok._word_ids) <= 2 and tok.encode_word(word) == expected


def test_encode_layout_and_truncation():
    tok = WordPieceTokenizer([*SPECIALS, "a", "b"])
    one = tok.encode("a a")
    assert one.input_ids == [2, 5, 5, 3] and one.token_type_ids == [0] * 4 and one.attention_mask == [1] * 4
    pair = tok.encode("a a a", "b b")
    assert pair.tokens == ["[CLS]", "a", "a", "a", "[SEP]", "b", "b", "[SEP]"]
    assert pair.token_type_ids == [0, 0, 0, 0, 0, 1, 1, 1]
    cut = tok.encode("a a a", "b b", max_length=6)  # 3 + 2 + 3 specials = 8: drop 2, from the longer a, then b
    assert cut.tokens == ["[CLS]", "a", "a", "[SEP]", "b", "[SEP]"] and len(cut) == 6
    assert tok.encode("a a a", max_length=3).tokens == ["[CLS]", "a", "[SEP]"]
    assert tok.encode("a a a", max_length=2).tokens == ["[CLS]", "[SEP]"]
    assert tok.encode("a", "b", max_length=3).tokens == ["[CLS]", "[SEP]", "[SEP]"]


def test_encode_max_length_too_small():
    with pytest.raises(ValueError, match="max_length=1 cannot hold the 2 special tokens"):
        UNAFFABLE.encode("una", max_length=1)
    with pytest.raises(ValueError, match="max_length=2 cannot hold the 3 special tokens of a pair"):
        UNAFFABLE.encode("una", "ff", max_length=2)


@given(st.lists(st.integers(0, 9), max_size=12), st.one_of(st.none(), st.lists(st.integers(0, 9), max_size=12)),
       st.integers(0, 25))
def test_truncate_longest_first_matches_the_token_by_token_rule(a, b, budget):
    ref_a, ref_b = list(a), None if b is None else list(b)
    if ref_b is None:
        ref_a = ref_a[:budget]
    else:
        while len(ref_a) + len(ref_b) > budget:  # drop the last token of the longer one, of b on a tie
            if len(ref_a) > len(ref_b):
                ref_a.pop()
            else:
                ref_b.pop()
    assert truncate_longest_first(a, b, budget) == (ref_a, ref_b)


def test_decode_glues_pieces_and_skips_specials():
    ids = UNAFFABLE.encode("Unaffable una", "ff").input_ids
    assert UNAFFABLE.decode(ids) == "unaffable una ff"
    assert UNAFFABLE.decode(ids, skip_special_tokens=False) == "[CLS] unaffable una [SEP] ff [SEP]"
    assert UNAFFABLE.decode(UNAFFABLE.encode("unax ff").input_ids) == "ff"  # [UNK] is a special token
    assert UNAFFABLE.decode(i for i in torch.tensor(ids)) == "unaffable una ff"  # any iterable of ints


# ---------------------------------------------------------------- vocab files


def test_vocab_file_round_trip(tmp_path, trained):
    path = tmp_path / "vocab.txt"
    trained.save_vocab(path)
    lines = path.read_text(encoding="utf-8").split("\n")
    assert lines[:5] == SPECIALS and lines[-1] == "" and len(lines) == trained.vocab_size + 1
    again = WordPieceTokenizer.from_vocab_file(path)
    assert again.ids_to_tokens == trained.ids_to_tokens
    assert os.listdir(tmp_path) == ["vocab.txt"]


def test_vocab_file_ids_are_line_numbers_even_with_specials_elsewhere(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_bytes("hello\r\n##s\r\n[PAD]\r\n[UNK]\r\n[CLS]\r\n[SEP]\r\n[MASK]\r\nwörld\r\n".encode())
    tok = WordPieceTokenizer.from_vocab_file(path)
    assert tok.pad_token_id == 2 and tok.mask_token_id == 6 and tok.special_ids == frozenset(range(2, 7))
    assert tok.tokenize("Hellos wörld") == ["hello", "##s", "[UNK]"]  # accents are stripped from the text
    assert tok.encode("hello").input_ids == [4, 0, 5]


@pytest.mark.parametrize("content, message", [
    (b"[PAD]\n[UNK]\n[CLS]\nbank\n[SEP]\n[MASK]\nbank\n", r"duplicate token 'bank' on lines 4 and 7"),
    (b"[PAD]\n[UNK]\n[CLS]\n[SEP]\nbank\n", r"lacks the special tokens \['\[MASK\]'\]"),
    (b"[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nb\xe4nk\n", r"is not UTF-8: bad byte at line 6"),
    (b"[PAD]\n[UNK]\n\n[CLS]\n[SEP]\n[MASK]\n", r"empty line 3"),
    (b"", r"is empty"),
])
def test_bad_vocab_files(tmp_path, content, message):
    path = tmp_path / "vocab.txt"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message) as info:
        WordPieceTokenizer.from_vocab_file(path)
    assert str(path) in str(info.value)


def test_missing_vocab_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.txt does not exist"):
        WordPieceTokenizer.from_vocab_file(tmp_path / "nope.txt")
    with pytest.raises(IsADirectoryError, match="is a folder, not a file"):
        WordPieceTokenizer.from_vocab_file(tmp_path)


def test_save_vocab_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "vocab.txt"
    path.write_text("old\n", encoding="utf-8")
    monkeypatch.setattr(os, "fsync", lambda fd: (_ for _ in ()).throw(OSError("I/O error")))
    with pytest.raises(OSError, match="I/O error"):
        UNAFFABLE.save_vocab(path)
    assert path.read_text(encoding="utf-8") == "old\n" and os.listdir(tmp_path) == ["vocab.txt"]


# ---------------------------------------------------------------- training


def test_train_learns_whole_frequent_words_and_is_deterministic():
    texts = ["low lower lowest newer newest wider"] * 20 + ["low low low lower"] * 10
    tok = WordPieceTokenizer.train(texts, vocab_size=60)
    assert tok.ids_to_tokens[:5] == SPECIALS
    assert {"l", "n", "w", "##o", "##w", "##e", "##r", "##s", "##t"} <= set(tok.ids_to_tokens)
    assert "low" in tok.vocab and "lowest" in tok.vocab
    assert tok.tokenize("lowest") == ["lowest"]
    assert WordPieceTokenizer.train(texts, vocab_size=60).ids_to_tokens == tok.ids_to_tokens
    assert tok.vocab_size <= 60


@pytest.mark.parametrize("criterion", ["likelihood", "pmi"])
def test_train_criteria_differ_as_documented(criterion):
    texts = synthetic_texts(800, seed=1)
    words = [w for t in texts for w in basic_tokenize(t)]
    tok = WordPieceTokenizer.train(texts, vocab_size=200, criterion=criterion)
    per_word = len(tok.tokenize(" ".join(texts))) / len(words)
    frequent = max(set(words), key=words.count)
    if criterion == "likelihood":  # frequent words whole: few tokens per word
        assert per_word < 1.5 and tok.tokenize(frequent) == [frequent]
    else:  # rare pairs first: frequent words stay split at this vocabulary size
        assert per_word > 2.0


def test_train_respects_vocab_size_and_pieces_every_training_word(trained):
    texts = synthetic_texts(400)
    assert trained.vocab_size == 300 and len(set(trained.ids_to_tokens)) == 300
    words = {w for t in texts for w in basic_tokenize(t)}
    for word in words:
        pieces = trained.tokenize(word)
        assert "[UNK]" not in pieces
        assert "".join(p.removeprefix("##") for p in pieces) == word
    # merges make the text shorter than one token per character
    assert len(trained.tokenize(" ".join(texts))) < 0.5 * sum(len(w) for t in texts for w in basic_tokenize(t))


def test_train_bad_input():
    with pytest.raises(ValueError, match="no words"):
        WordPieceTokenizer.train([], vocab_size=100)
    with pytest.raises(ValueError, match="no words"):
        WordPieceTokenizer.train(["", "  \n"], vocab_size=100)
    with pytest.raises(ValueError, match="criterion"):
        WordPieceTokenizer.train(["abc"], vocab_size=100, criterion="bpe")
    # alphabet a c ##a ##b ##c: 5 specials + 5 = 10
    with pytest.raises(ValueError, match=r"vocab_size=9 is smaller .* use vocab_size >= 10"):
        WordPieceTokenizer.train(["abc cab"], vocab_size=9)
    assert WordPieceTokenizer.train(["abc cab"], vocab_size=10).vocab_size == 10


# ---------------------------------------------------------------- properties

WORD_CHARS = st.sampled_from("abcdefghijklmnopqrstuvwxyzéöñ中")


@given(st.text(WORD_CHARS, min_size=1, max_size=30))
@settings(max_examples=150, deadline=None)
def test_pieces_of_a_word_join_back_to_the_normalized_word(trained, word):
    pieced = 0
    for normalized in basic_tokenize(word):  # "d中" is two words: "d" and "中"
        pieces = trained.tokenize(normalized)
        if pieces == ["[UNK]"]:
            assert any("##" + ch not in trained.vocab for ch in normalized[1:]) or normalized[0] not in trained.vocab
            continue
        pieced += 1
        assert "[UNK]" not in pieces and not pieces[0].startswith("##")
        assert all(p.startswith("##") for p in pieces[1:])
        assert "".join(p.removeprefix("##") for p in pieces) == normalized
        assert all(p in trained.vocab for p in pieces)
    assert trained.tokenize(word) == [p for w in basic_tokenize(word) for p in trained.tokenize(w)]


@given(st.text(WORD_CHARS, min_size=1, max_size=120))
@settings(max_examples=100, deadline=None)
def test_character_vocab_pieces_every_word_up_to_100_characters(word):
    letters = sorted(set("abcdefghijklmnopqrstuvwxyzeon中"))
    tok = WordPieceTokenizer([*SPECIALS, *letters, *("##" + c for c in letters)])
    pieces = tok.tokenize(word)
    words = basic_tokenize(word)
    assert len(pieces) == sum(1 if len(w) > 100 else len(w) for w in words)
    assert ("[UNK]" in pieces) == any(len(w) > 100 for w in words)


@given(st.lists(st.one_of(st.text(WORD_CHARS, min_size=1, max_size=8), st.sampled_from(
    [" ", "  ", "\t", ",", "!!", "(", "É", "\u0301"])), max_size=20).map("".join),
       st.one_of(st.none(), st.text(WORD_CHARS, max_size=20)))
@settings(max_examples=100, deadline=None)
def test_encode_decode_round_trip_modulo_normalization(trained, text, pair):
    enc = trained.encode(text, pair)
    assert len(enc.input_ids) == len(enc.token_type_ids) == len(enc.attention_mask)
    decoded = trained.decode(enc.input_ids)
    words = basic_tokenize(text) + (basic_tokenize(pair) if pair is not None else [])
    if "[UNK]" not in enc.tokens:
        assert decoded == " ".join(words)
    else:
        assert decoded.split(" ").count("[UNK]") == 0  # [UNK] is special: skipped
        assert len(decoded.split()) <= len(words)


# ---------------------------------------------------------------- equivalence with Hugging Face

ADVERSARIAL = [
    "", " ", "\t\n\r ", "Hello, World!", "The bank's river-bank... closed?!",
    "Café naïve RÉSUMÉ Ångström façade", "İstanbul ΣΊΣΥΦΟΣ ΑΣ. ς", "中文字 and 日本語 mixed中文text",
    "$$$---!!!...???", "a.b,c;d:e'f\"g(h)i[j]k{l}m", "\x00\x01\x7f\u200b\ufffd\u00ad bank",
    "x" * 101, "x" * 100, "a" * 250 + " b", "ﬁne ｆｕｌｌｗｉｄｔｈ ①②", "\u0301\u0301 e\u0301 \u0301e",
    "[CLS] a [SEP] b [SEP]", "a[MASK]b", "[mask] [Mask]", "[CL\x00S] x", "tab\tsep\u2028line\u3000ideo",
    "unaffable unaffably", "🙂 emoji 👍🏽", "ǅ ǈ ß ẞ", "Zürich → Köln — ok?", "\U00020000\U0002a700",
    "ㄱ 한국어 テスト", "¿¡¡!!", "a\u0300\u0316\u0301b", "ⅷ Ⅷ ⓐ",
]
FUZZ_PIECES = ["Σ", "ΑΣ", "İ", "[CLS]", "[SEP]", "[MA", "SK]", "\x00", "\u0301", "中", "ﬁ", " ", "\t", "bank",
               "!!", "é", "\ufffd", "\u200b", "\u2028", "ö", "ñ", "##", "'s", "x" * 60]


@pytest.fixture(scope="module")
def hf_pair(tmp_path_factory):
    """(ours, Hugging Face's Python BertTokenizer) on the same vocab file."""
    pytest.importorskip("transformers")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:  # transformers 5: BertTokenizer is the Rust one, the Python one is BertTokenizerLegacy
        from transformers.models.bert.tokenization_bert_legacy import BertTokenizerLegacy as Reference
    except ImportError:
        from transformers import BertTokenizer as Reference
    texts = synthetic_texts(300) + ADVERSARIAL
    tok = WordPieceTokenizer.train(texts, vocab_size=400, min_frequency=1)
    path = tmp_path_factory.mktemp("hf") / "vocab.txt"
    tok.save_vocab(path)
    ours = WordPieceTokenizer.from_vocab_file(path)
    return ours, Reference(str(path), do_lower_case=True)


def hf_encode(hf, text, pair=None, max_length=None):
    kwargs = {"truncation": True, "max_length": max_length} if max_length is not None else {}
    out = hf(text, pair, return_token_type_ids=True, return_attention_mask=True, **kwargs)
    return out["input_ids"], out["token_type_ids"], out["attention_mask"]


def test_hf_reference_is_the_python_tokenizer(hf_pair):
    _, hf = hf_pair
    assert not getattr(hf, "is_fast", False)


@pytest.mark.parametrize("text", ADVERSARIAL)
def test_tokenize_equals_hugging_face_on_adversarial_strings(hf_pair, text):
    ours, hf = hf_pair
    assert ours.tokenize(text) == hf.tokenize(text)
    enc = ours.encode(text, "pair " + text[::-1])
    assert (enc.input_ids, enc.token_type_ids, enc.attention_mask) == hf_encode(hf, text, "pair " + text[::-1])


def test_rust_bert_tokenizer_agrees_except_two_documented_cases(hf_pair, tmp_path):
    """transformers 5's ``BertTokenizer`` is the Rust one: it lower-cases a final capital sigma to σ
    (Python's str.lower gives ς) and does not keep a special token that appears only after cleaning."""
    import transformers

    ours, hf = hf_pair
    if type(hf) is transformers.BertTokenizer:
        pytest.skip("transformers 4: BertTokenizer is the Python tokenizer, tested above")
    ours.save_vocab(tmp_path / "vocab.txt")
    rust = transformers.BertTokenizer(str(tmp_path / "vocab.txt"), do_lower_case=True)
    documented = [t for t in ADVERSARIAL if "Σ" in t or "[CL\x00S]" in t]
    assert len(documented) == 2
    for text in ADVERSARIAL:
        if text not in documented:
            assert ours.tokenize(text) == rust.tokenize(text), text


def test_unknown_words_are_unk_like_hugging_face(hf_pair):
    ours, hf = hf_pair
    text = "qqqq zzzz " + "ba" * 51
    assert ours.tokenize(text) == hf.tokenize(text) == ["[UNK]", "[UNK]", "[UNK]"]


random_text = st.one_of(
    st.text(max_size=40),
    st.lists(st.one_of(st.text(max_size=4), st.sampled_from(FUZZ_PIECES)), max_size=15).map("".join),
)


@given(random_text, st.one_of(st.none(), random_text), st.one_of(st.none(), st.integers(4, 30)))
@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_tokenize_and_encode_equal_hugging_face_on_random_text(hf_pair, text, pair, max_length):
    ours, hf = hf_pair
    assert ours.tokenize(text) == hf.tokenize(text)
    enc = ours.encode(text, pair, max_length=max_length)
    assert (enc.input_ids, enc.token_type_ids, enc.attention_mask) == hf_encode(hf, text, pair, max_length)


# ---------------------------------------------------------------- batching


@pytest.mark.parametrize("lengths, max_length", [([3, 1, 2], None), ([5], None), ([4, 0, 7, 2], 3), ([0, 0], None)])
def test_pad_batch_shapes_and_mask(lengths, max_length):
    seqs = [list(range(10, 10 + n)) for n in lengths]
    ids, mask = pad_batch(seqs, pad_id=-1, max_length=max_length)
    cut = [n if max_length is None else min(n, max_length) for n in lengths]
    assert ids.shape == mask.shape == (len(lengths), max(max(cut), 1))
    assert ids.dtype == mask.dtype == torch.long
    assert mask.sum(1).tolist() == cut
    for row, n in enumerate(cut):
        assert ids[row, :n].tolist() == seqs[row][:n]
        assert (ids[row, n:] == -1).all()
    with pytest.raises(ValueError, match="empty batch"):
        pad_batch([], pad_id=0)


@given(st.lists(st.integers(0, 50), max_size=200), st.integers(1, 17), st.booleans(), st.integers(0, 2**31))
@settings(max_examples=80, deadline=None)
def test_length_buckets_cover_every_index_exactly_once(lengths, batch_size, shuffle, seed):
    batches = length_buckets(lengths, batch_size, shuffle=shuffle, generator=seed, pool_batches=3)
    flat = [i for b in batches for i in b]
    assert sorted(flat) == list(range(len(lengths)))
    assert all(1 <= len(b) <= batch_size for b in batches)
    assert batches == length_buckets(lengths, batch_size, shuffle=shuffle, generator=torch.Generator().manual_seed(seed),
                                     pool_batches=3)
    if not shuffle:
        for left, right in zip(batches, batches[1:], strict=False):
            assert max(lengths[i] for i in left) <= min(lengths[i] for i in right)


def test_length_buckets_shuffle_varies_with_seed_and_reduces_padding():
    rng = random.Random(0)
    lengths = [rng.randint(1, 100) for _ in range(1000)]
    a = length_buckets(lengths, 10, generator=0)
    assert a != length_buckets(lengths, 10, generator=1)
    padded = sum(len(b) * max(lengths[i] for i in b) for b in a)
    naive = sum(10 * max(lengths[s:s + 10]) for s in range(0, 1000, 10))
    assert padded < 0.8 * naive
    assert [len(b) for b in length_buckets(lengths[:25], 10, drop_last=True, generator=0)] == [10, 10]
    with pytest.raises(ValueError, match="batch_size"):
        length_buckets(lengths, 0)


def test_collate_tokens_with_vocab_and_wordpiece():
    v = Vocab.build([["the", "bank"], ["the"]])
    out = collate_tokens(["the bank", ["the"]], v)
    assert out["input_ids"].tolist() == [[7, 8], [7, 0]] and out["attention_mask"].tolist() == [[1, 1], [1, 0]]
    out = collate_tokens(["ff", ("unaffable", "ff ff"), "a a a a a"], UNAFFABLE, max_length=6)
    assert set(out) == {"input_ids", "token_type_ids", "attention_mask"}
    assert out["input_ids"].shape == (3, 6)
    assert out["input_ids"][0].tolist() == [2, 11, 3, 0, 0, 0]
    assert out["token_type_ids"][1].tolist() == [0, 0, 0, 0, 1, 1]  # [CLS] un ##aff [SEP] ff [SEP]
    assert out["attention_mask"].sum(1).tolist() == [3, 6, 6]
    with pytest.raises(TypeError, match="Vocab or a WordPieceTokenizer"):
        collate_tokens(["x"], {"x": 1})


def test_docstring_examples():
    import doctest

    from course_lib.text import batching, vocab, wordpiece

    results = [doctest.testmod(module) for module in (vocab, wordpiece, batching)]
    assert sum(r.attempted for r in results) >= 15 and sum(r.failed for r in results) == 0
