"""Tests of course_lib.text.collate: hand-worked batches on a tiny WordPiece vocabulary, then every
task dataset of a small toy-world corpus through every collate function."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.data import (
    QAExample,
    SameSensePair,
    SenseExample,
    SentencePair,
    Seq2SeqExample,
    SpamMessage,
    TaggedSentence,
    next_sentence_pairs,
    phrase_reversal_examples,
    pos_tagging_examples,
    qa_examples,
    same_sense_pairs,
    sense_examples,
    spam_messages,
    toyworld_corpus,
)
from course_lib.text import BERT_SPECIAL_TOKENS, Vocab, WordPieceTokenizer
from course_lib.text.collate import (
    IGNORE_INDEX,
    collate_classification,
    collate_pairs,
    collate_qa,
    collate_sense,
    collate_seq2seq,
    collate_tagging,
    encode_words,
)

# ids:  [PAD]=0 [UNK]=1 [CLS]=2 [SEP]=3 [MASK]=4 the=5 bank=6 un=7 ##aff=8 ##able=9
#       what=10 does=11 tom=12 sell=13 ##s=14 cow=15 old=16
TOK = WordPieceTokenizer([*BERT_SPECIAL_TOKENS, "the", "bank", "un", "##aff", "##able",
                          "what", "does", "tom", "sell", "##s", "cow", "old"])
TAGS = {"DET": 0, "ADJ": 1, "NOUN": 2}
X = IGNORE_INDEX


def sense(tokens: list[str], position: int, sense_name: str = "river", label: int = 1) -> SenseExample:
    """A sense of "bank" (written "bank" or "banks") at ``position``."""
    return SenseExample(tokens, position, "bank", sense_name, label, "left", 0, position, label)


# ---------------------------------------------------------------- encode_words


def test_encode_words_remembers_word_boundaries():
    pieces = encode_words(["the", "unaffable", "banks", "moon"], TOK)
    assert pieces.ids == [5, 7, 8, 9, 6, 14, 1]
    assert pieces.word_starts == [0, 1, 4, 6] and pieces.word_ends == [0, 3, 5, 6]
    assert pieces.word_ids() == [0, 1, 1, 1, 2, 2, 3]
    vocab = Vocab(["the", "bank"])
    assert encode_words(["the", "moon", "bank"], vocab) == ([7, 1, 8], [0, 1, 2], [0, 1, 2])


def test_encode_words_gives_an_unpieceable_word_one_unk():
    pieces = encode_words(["the", " ", "bank"], TOK)  # basic tokenization leaves nothing of " "
    assert pieces.ids == [5, 1, 6] and pieces.word_starts == [0, 1, 2]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet="unafblesk'.", min_size=1, max_size=8), max_size=6))
def test_encode_words_agrees_with_tokenize(words):
    """Pieces word by word are the pieces of the whole text; each word's pieces are contiguous."""
    words = [w for w in words if TOK.tokenize(w)]
    pieces = encode_words(words, TOK)
    assert pieces.ids == TOK.convert_tokens_to_ids(TOK.tokenize(" ".join(words)))
    for w, (s, e) in enumerate(zip(pieces.word_starts, pieces.word_ends, strict=True)):
        assert pieces.ids[s:e + 1] == TOK.convert_tokens_to_ids(TOK.tokenize(words[w]))
    assert pieces.word_ids() == sorted(pieces.word_ids())


# ---------------------------------------------------------------- hand-worked batches


def test_tagging_labels_the_first_piece_of_each_word():
    batch = collate_tagging([TaggedSentence(["the", "unaffable", "bank"], ["DET", "ADJ", "NOUN"]),
                             TaggedSentence(["banks"], ["NOUN"])], TOK, TAGS)
    assert batch["input_ids"].tolist() == [[2, 5, 7, 8, 9, 6, 3], [2, 6, 14, 3, 0, 0, 0]]
    assert batch["labels"].tolist() == [[X, 0, 1, X, X, 2, X], [X, 2, X, X, X, X, X]]
    assert batch["attention_mask"].tolist() == [[1] * 7, [1, 1, 1, 1, 0, 0, 0]]
    assert batch["token_type_ids"].tolist() == [[0] * 7] * 2
    cut = collate_tagging([TaggedSentence(["the", "unaffable", "bank"], ["DET", "ADJ", "NOUN"])], TOK, TAGS,
                          max_length=4)  # [CLS] the un [SEP]: "unaffable" keeps its first piece and its label
    assert cut["input_ids"].tolist() == [[2, 5, 7, 3]] and cut["labels"].tolist() == [[X, 0, 1, X]]


def test_tagging_with_a_vocab_has_one_label_per_word():
    vocab = Vocab(["the", "bank"])
    batch = collate_tagging([TaggedSentence(["the", "moon", "bank"], ["DET", "NOUN", "NOUN"]),
                             TaggedSentence(["bank"], ["NOUN"])], vocab, TAGS)
    assert set(batch) == {"input_ids", "attention_mask", "labels"}
    assert batch["input_ids"].tolist() == [[7, 1, 8], [8, 0, 0]]
    assert batch["labels"].tolist() == [[0, 2, 2], [2, X, X]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]
    cut = collate_tagging([TaggedSentence(["the", "moon", "bank"], ["DET", "NOUN", "NOUN"])], vocab, TAGS, 2)
    assert cut["input_ids"].tolist() == [[7, 1]] and cut["labels"].tolist() == [[0, 2]]


def test_sense_positions_point_at_the_first_piece_of_the_word():
    examples = [sense(["the", "unaffable", "bank"], 2, "river", 1), sense(["old", "banks"], 1, "money", 0)]
    batch = collate_sense(examples, TOK)
    assert batch["input_ids"].tolist() == [[2, 5, 7, 8, 9, 6, 3], [2, 16, 6, 14, 3, 0, 0]]
    assert batch["positions"].tolist() == [5, 2]
    assert batch["labels"].tolist() == [1, 0]
    mapped = collate_sense(examples, TOK, label_to_id={("bank", "river"): 3, ("bank", "money"): 4})
    assert mapped["labels"].tolist() == [3, 4]
    words = collate_sense(examples, Vocab(["the", "bank", "old"]))
    assert words["positions"].tolist() == [2, 1] and "token_type_ids" not in words
    with pytest.raises(ValueError, match="'bank' at position 2 is cut off by max_length=5"):
        collate_sense(examples, TOK, max_length=5)


def test_classification_adds_cls_and_sep_with_wordpiece():
    examples = [SpamMessage(["the", "cow"], 1), SpamMessage(["unaffable"], 0)]
    batch = collate_classification(examples, TOK)
    assert batch["input_ids"].tolist() == [[2, 5, 15, 3, 0], [2, 7, 8, 9, 3]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1, 1, 0], [1] * 5]
    assert batch["token_type_ids"].tolist() == [[0] * 5] * 2
    assert batch["labels"].tolist() == [1, 0]
    words = collate_classification(examples, Vocab(["the", "cow"]))
    assert words["input_ids"].tolist() == [[7, 8], [1, 0]]
    named = collate_classification([SpamMessage(["the"], "spam")], TOK, label_to_id={"ham": 0, "spam": 1})
    assert named["labels"].tolist() == [1]


def test_pairs_build_cls_a_sep_b_sep():
    batch = collate_pairs([SentencePair(["the", "bank"], ["unaffable"], True),
                           SentencePair(["cow"], ["the"], False)], TOK)
    assert batch["input_ids"].tolist() == [[2, 5, 6, 3, 7, 8, 9, 3], [2, 15, 3, 5, 3, 0, 0, 0]]
    assert batch["token_type_ids"].tolist() == [[0, 0, 0, 0, 1, 1, 1, 1], [0, 0, 0, 1, 1, 0, 0, 0]]
    assert batch["attention_mask"].tolist() == [[1] * 8, [1] * 5 + [0] * 3]
    assert batch["labels"].tolist() == [0, 1]  # BERT's convention: 0 = IsNext, 1 = NotNext
    assert "positions_a" not in batch
    cut = collate_pairs([SentencePair(["the", "bank"], ["unaffable"], True)], TOK, max_length=6)
    assert cut["input_ids"].tolist() == [[2, 5, 6, 3, 7, 3]]  # longest first: b loses ##able, then (a tie) ##aff


def test_pairs_with_a_label_of_their_own_keep_it():
    from course_lib.data import EntailmentPair, TopicPair
    batch = collate_pairs([TopicPair(["the"], ["cow"], "farm", "farm"), TopicPair(["cow"], ["the"], "farm", "sea")], TOK)
    assert batch["labels"].tolist() == [1, 0] and "positions_a" not in batch
    assert batch["input_ids"].tolist() == collate_pairs([SentencePair(["the"], ["cow"], True),
                                                         SentencePair(["cow"], ["the"], True)], TOK)["input_ids"].tolist()
    entailment = collate_pairs([EntailmentPair(["the"], ["cow"], 2, "neutral")], TOK)
    assert entailment["labels"].tolist() == [2]


def test_same_sense_pairs_locate_both_occurrences():
    batch = collate_pairs([SameSensePair(["old", "bank"], 1, ["the", "banks"], 1, "bank", True),
                           SameSensePair(["banks"], 0, ["unaffable", "bank"], 1, "bank", False)], TOK)
    assert batch["input_ids"].tolist() == [[2, 16, 6, 3, 5, 6, 14, 3, 0], [2, 6, 14, 3, 7, 8, 9, 6, 3]]
    assert batch["token_type_ids"][1].tolist() == [0, 0, 0, 0, 1, 1, 1, 1, 1]
    assert batch["positions_a"].tolist() == [2, 1] and batch["positions_b"].tolist() == [5, 7]
    assert batch["labels"].tolist() == [1, 0]
    with pytest.raises(ValueError, match="'bank' at position 1 is cut off"):
        collate_pairs([SameSensePair(["old", "bank"], 1, ["the", "banks"], 1, "bank", True)], TOK, max_length=5)
    with pytest.raises(ValueError, match="mixes"):
        collate_pairs([SentencePair(["the"], ["bank"], True), SameSensePair(["bank"], 0, ["bank"], 0, "bank", True)],
                      TOK)


QUESTION = ["what", "does", "tom", "sell"]
CONTEXT = ["tom", "sells", "the", "unaffable", "cows"]  # tom sell ##s the un ##aff ##able cow ##s


def test_qa_positions_run_from_first_to_last_piece():
    batch = collate_qa([QAExample(QUESTION, CONTEXT, (3, 4)), QAExample(QUESTION, ["tom"], None)], TOK)
    assert batch["input_ids"][0].tolist() == [2, 10, 11, 12, 13, 3, 12, 13, 14, 5, 7, 8, 9, 15, 14, 3]
    assert batch["token_type_ids"][0].tolist() == [0] * 6 + [1] * 10
    assert batch["start_positions"].tolist() == [10, 0] and batch["end_positions"].tolist() == [14, 0]
    assert batch["word_index"][0] == [-1] * 6 + [0, 1, 1, 2, 3, 3, 3, 4, 4] + [-1]
    assert batch["word_index"][1] == [-1] * 6 + [0] + [-1] * 9  # padded to T = 16 like the tensors
    words = collate_qa([QAExample(QUESTION, CONTEXT, (1, 2))], Vocab.build([QUESTION, CONTEXT]))
    assert words["start_positions"].tolist() == [7] and words["end_positions"].tolist() == [8]


def test_qa_answer_cut_off_by_truncation_is_unanswerable():
    # budget 15 - 3 = 12 pieces: the context (9) loses its last piece "##s", so "cows" is cut in part
    cut = collate_qa([QAExample(QUESTION, CONTEXT, (3, 4))], TOK, max_length=15)
    assert cut["input_ids"].shape == (1, 15)
    assert cut["start_positions"].tolist() == [0] and cut["end_positions"].tolist() == [0]
    kept = collate_qa([QAExample(QUESTION, CONTEXT, (3, 3))], TOK, max_length=15)
    assert kept["start_positions"].tolist() == [10] and kept["end_positions"].tolist() == [12]
    assert kept["word_index"][0][-2:] == [4, -1]  # "cow" still maps to its word, [SEP] to none


def test_seq2seq_shifts_the_target_by_one():
    vocab = Vocab(["a", "b"])  # a = 7, b = 8; <bos> = 5, <eos> = 6
    batch = collate_seq2seq([Seq2SeqExample(["a", "b"], ["b", "a"]), Seq2SeqExample(["a"], ["a"])], vocab)
    assert batch["src_ids"].tolist() == [[7, 8], [7, 0]]
    assert batch["src_mask"].tolist() == [[1, 1], [1, 0]]
    assert batch["tgt_in"].tolist() == [[5, 8, 7], [5, 7, 0]]
    assert batch["tgt_out"].tolist() == [[8, 7, 6], [7, 6, 0]]
    assert batch["tgt_mask"].tolist() == [[1, 1, 1], [1, 1, 0]]


# ---------------------------------------------------------------- bad input


def test_bad_input_raises_clear_errors():
    tagged = [TaggedSentence(["the"], ["DET"])]
    for fn, args in [(collate_tagging, (TOK, TAGS)), (collate_sense, (TOK,)), (collate_classification, (TOK,)),
                     (collate_pairs, (TOK,)), (collate_qa, (TOK,)), (collate_seq2seq, (Vocab(),))]:
        with pytest.raises(ValueError, match="empty batch"):
            fn([], *args)
    with pytest.raises(ValueError, match="max_length=1 cannot hold the 2 special tokens"):
        collate_tagging(tagged, TOK, TAGS, max_length=1)
    with pytest.raises(ValueError, match="max_length=0 cannot hold one token"):
        collate_tagging(tagged, Vocab(), TAGS, max_length=0)
    with pytest.raises(ValueError, match="max_length=2 cannot hold the 3 special tokens"):
        collate_pairs([SentencePair(["the"], ["bank"], True)], TOK, max_length=2)
    with pytest.raises(ValueError, match="max_length=2 cannot hold the 3 special tokens"):
        collate_qa([QAExample(QUESTION, CONTEXT, None)], TOK, max_length=2)
    with pytest.raises(ValueError, match=r"unknown tags \['ADV', 'VERB'\]"):
        collate_tagging([TaggedSentence(["the", "bank", "the"], ["VERB", "NOUN", "ADV"])], TOK, TAGS)
    with pytest.raises(ValueError, match="1 tokens but 2 tags"):
        collate_tagging([TaggedSentence(["the"], ["DET", "NOUN"])], TOK, TAGS)
    with pytest.raises(ValueError, match=r"unknown sense labels \[\('bank', 'money'\)\]"):
        collate_sense([sense(["bank"], 0, "money")], TOK, label_to_id={("bank", "river"): 0})
    with pytest.raises(ValueError, match=r"unknown classification labels \['eggs'\]"):
        collate_classification([SpamMessage(["the"], "eggs")], TOK, label_to_id={"spam": 1})
    with pytest.raises(ValueError, match="not ints: pass label_to_id"):
        collate_classification([SpamMessage(["the"], "spam")], TOK)
    with pytest.raises(ValueError, match=r"span \(2, 5\) outside its 5 context words"):
        collate_qa([QAExample(QUESTION, CONTEXT, (2, 5))], TOK)
    with pytest.raises(TypeError, match="needs a Vocab"):
        collate_seq2seq([Seq2SeqExample(["a"], ["a"])], TOK)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Vocab or a WordPieceTokenizer"):
        collate_classification([SpamMessage(["the"], 1)], {"the": 5})  # type: ignore[arg-type]


# ---------------------------------------------------------------- the toy world's task datasets


@pytest.fixture(scope="module")
def toy():
    corpus = toyworld_corpus("validation", num_documents=50)
    texts = [" ".join(s.tokens) for s in corpus]
    return {
        "tokenizer": WordPieceTokenizer.train(texts, vocab_size=150),  # small: many words become several pieces
        "vocab": Vocab.build(s.tokens for s in corpus),
        "tagged": pos_tagging_examples(corpus), "senses": sense_examples(corpus), "spam": spam_messages(40),
        "nsp": next_sentence_pairs(corpus), "same": same_sense_pairs(corpus, num_pairs=40),
        # QA needs documents whose character is the subject of a name-verb-object sentence: take more
        "qa": qa_examples(toyworld_corpus("validation", num_documents=200)),
        "seq2seq": phrase_reversal_examples(corpus),
    }


def assert_padded(batch: dict, B: int) -> None:
    """Every (B, T) tensor has the same shape; padding has mask 0, pad id 0 and no label."""
    ids, mask = batch["input_ids"], batch["attention_mask"]
    assert ids.dtype == torch.long and ids.shape[0] == B
    for key in ("token_type_ids", "labels"):
        if key in batch and batch[key].dim() == 2:
            assert batch[key].shape == ids.shape
    assert (ids[mask == 0] == 0).all()
    assert mask.sum(1).min() > 0 and (mask[:, :-1] >= mask[:, 1:]).all()  # real tokens first
    if batch.get("labels") is not None and batch["labels"].dim() == 2:
        assert (batch["labels"][mask == 0] == IGNORE_INDEX).all()


@pytest.mark.parametrize("B", [1, 3, 8])
@pytest.mark.parametrize("encoder_name", ["tokenizer", "vocab"])
def test_toy_tagging_and_sense(toy, B, encoder_name):
    encoder = toy[encoder_name]
    bert = encoder_name == "tokenizer"
    tag_to_id = {t: i for i, t in enumerate(sorted({t for ex in toy["tagged"] for t in ex.tags}))}
    examples = toy["tagged"][:B]
    batch = collate_tagging(examples, encoder, tag_to_id)
    assert_padded(batch, B)
    for b, ex in enumerate(examples):
        pieces = encode_words(ex.tokens, encoder)
        labelled = batch["labels"][b] != IGNORE_INDEX
        assert labelled.sum() == len(ex.tags)
        firsts = [int(bert) + s for s in pieces.word_starts]
        assert batch["labels"][b, firsts].tolist() == [tag_to_id[t] for t in ex.tags]

    examples = toy["senses"][:B]
    batch = collate_sense(examples, encoder)
    assert_padded(batch, B)
    assert batch["positions"].shape == batch["labels"].shape == (B,)
    for b, ex in enumerate(examples):
        first_piece = encode_words([ex.word], encoder).ids[0]
        assert batch["input_ids"][b, batch["positions"][b]] == first_piece
    assert batch["labels"].tolist() == [ex.label for ex in examples]

    examples = toy["spam"][:B]
    batch = collate_classification(examples, encoder)
    assert_padded(batch, B)
    assert batch["labels"].tolist() == [ex.label for ex in examples]
    assert ("token_type_ids" in batch) == bert


@pytest.mark.parametrize("B", [1, 3, 8])
@pytest.mark.parametrize("max_length", [None, 12, 20])
def test_toy_pairs_equal_the_tokenizers_encoding(toy, B, max_length):
    tok = toy["tokenizer"]
    for kind in ("nsp", "same"):
        examples = toy[kind][:B]
        if kind == "same":
            max_length = None  # a cut-off occurrence of the word is an error (tested by hand above)
        batch = collate_pairs(examples, tok, max_length=max_length)
        assert_padded(batch, len(examples))
        for b, ex in enumerate(examples):
            enc = tok.encode(" ".join(ex.tokens_a), " ".join(ex.tokens_b), max_length=max_length)
            n = len(enc)
            assert batch["input_ids"][b, :n].tolist() == enc.input_ids
            assert batch["token_type_ids"][b, :n].tolist() == enc.token_type_ids
            assert batch["attention_mask"][b].sum() == n
            if kind == "same":
                first_piece = encode_words([ex.word], tok).ids[0]
                assert batch["input_ids"][b, batch["positions_a"][b]] == first_piece
                assert batch["input_ids"][b, batch["positions_b"][b]] == first_piece
                assert batch["token_type_ids"][b, batch["positions_b"][b]] == 1
        assert batch["labels"].tolist() == [int(ex.same) if kind == "same" else int(not ex.is_next) for ex in examples]


@pytest.mark.parametrize("max_length", [None, 24])
def test_toy_qa_spans_decode_to_the_gold_answer(toy, max_length):
    examples = toy["qa"]
    assert any(ex.span is None for ex in examples) and any(ex.span is not None for ex in examples)
    batch = collate_qa(examples, toy["tokenizer"], max_length=max_length)
    assert_padded(batch, len(examples))
    T = batch["input_ids"].shape[1]
    assert len(batch["word_index"]) == len(examples) and {len(row) for row in batch["word_index"]} == {T}
    cut = 0
    for b, ex in enumerate(examples):
        s, e = batch["start_positions"][b].item(), batch["end_positions"][b].item()
        if ex.span is None or (s, e) == (0, 0):
            assert (s, e) == (0, 0)
            cut += ex.span is not None
            assert max_length is not None or ex.span is None  # untruncated answers always survive
            continue
        row = batch["word_index"][b]
        assert ex.context[row[s]:row[e] + 1] == ex.answer
        assert row[s - 1] != row[s] and (e + 1 == T or row[e + 1] != row[e])  # whole words, not parts
    assert cut > 0 or max_length is None  # at 24 ids some contexts lose their answer


def test_toy_seq2seq_shift(toy):
    vocab = toy["vocab"]
    for B in (1, 3, 8):
        examples = toy["seq2seq"][:B]
        batch = collate_seq2seq(examples, vocab)
        assert batch["src_ids"].shape == batch["src_mask"].shape == (B, max(len(ex.source) for ex in examples))
        T = max(len(ex.target) for ex in examples) + 1
        assert batch["tgt_in"].shape == batch["tgt_out"].shape == batch["tgt_mask"].shape == (B, T)
        for b, ex in enumerate(examples):
            n = len(ex.target) + 1
            assert batch["tgt_mask"][b].sum() == n
            assert batch["tgt_in"][b, 0] == vocab.bos_id and batch["tgt_out"][b, n - 1] == vocab.eos_id
            assert torch.equal(batch["tgt_in"][b, 1:n], batch["tgt_out"][b, :n - 1])
            assert vocab.decode(batch["tgt_out"][b, :n - 1].tolist()) == ex.target
            assert (batch["tgt_out"][b, n:] == vocab.pad_id).all()
