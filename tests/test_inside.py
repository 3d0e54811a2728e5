"""course_lib.inside: head statistics on hand-made attention, padding-independence, the uniform baseline,
one word's vectors layer by layer, the explorer's model view, and loading a real BERT folder (no network)."""

from __future__ import annotations

from types import SimpleNamespace

import matplotlib
import pytest
import torch
from torch.testing import assert_close

from course_lib.bert import (
    PATTERNS,
    BertConfig,
    BertModel,
    attention_function,
    bert_word_layers,
    head_statistics,
    mass_to_keys,
    offset_mass,
    pretrained_bert_or_none,
    sentence_attention,
    similarity_by_layer,
    top_heads,
)
from course_lib.text import BERT_SPECIAL_TOKENS, WordPieceTokenizer
from course_lib.viz import AttentionExplorer

matplotlib.use("Agg")

WORDS = ["the", "bank", "river", "money", "floods", "lends", "old", "sweaty", "palm", "un", "##aff", "##able"]


@pytest.fixture(scope="module")
def tokenizer() -> WordPieceTokenizer:
    return WordPieceTokenizer(list(BERT_SPECIAL_TOKENS) + WORDS)


@pytest.fixture(scope="module")
def bert(tokenizer) -> BertModel:
    torch.manual_seed(0)
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=32)
    return BertModel(config).eval()


def sense(tokens: str, position: int, cue_position: int) -> SimpleNamespace:
    """A stand-in for ``SenseExample``: only the fields head_statistics reads."""
    return SimpleNamespace(tokens=tokens.split(), position=position, cue_position=cue_position)


EXAMPLES = [sense("the bank floods", 1, 2), sense("the old sweaty palm", 3, 2),
            sense("the bank lends money", 1, 2), sense("the unaffable bank floods", 2, 1)]


# ------------------------------------------------------------------ hand-worked attention


def test_mass_to_keys_on_a_hand_worked_example() -> None:
    att = torch.tensor([[0.5, 0.5, 0.0], [0.1, 0.2, 0.7], [0.0, 0.0, 1.0]])[None, None, None]  # (1, 1, 1, 3, 3)
    last = torch.tensor([[False, False, True]])
    everyone = torch.ones(1, 3, dtype=torch.bool)
    assert_close(mass_to_keys(att, last, everyone), torch.tensor([[[(0.0 + 0.7 + 1.0) / 3]]]))
    first_two = torch.tensor([[True, True, False]])  # only these queries count (the third is padding)
    assert_close(mass_to_keys(att, last, first_two), torch.tensor([[[0.35]]]))


def test_offset_mass_reads_the_diagonals_and_skips_padding() -> None:
    T = 5
    previous = torch.eye(T).roll(-1, dims=1)  # row t has its 1 at column t - 1 (row 0 wraps to T - 1)
    att = previous[None, None, None]
    real = torch.ones(1, T, dtype=torch.bool)
    assert_close(offset_mass(att, real, -1), torch.ones(1, 1, 1))  # queries 1..T-1, all on t - 1
    assert_close(offset_mass(att, real, +1), torch.zeros(1, 1, 1))
    padded = torch.tensor([[True, True, True, False, False]])
    assert_close(offset_mass(att, padded, -1), torch.ones(1, 1, 1))  # queries 1, 2 only
    with pytest.raises(ValueError, match="offset"):
        offset_mass(att, real, 0)


def test_top_heads_are_sorted_and_named_by_layer_and_head() -> None:
    scores = torch.tensor([[0.1, 0.9, 0.3], [0.7, 0.2, 0.8]])
    assert top_heads(scores, 3) == [(0, 1, pytest.approx(0.9)), (1, 2, pytest.approx(0.8)), (1, 0, pytest.approx(0.7))]
    assert len(top_heads(scores, 10)) == 6


# ------------------------------------------------------------------ a tiny BERT


def test_sentence_attention_shapes_and_rows_sum_to_one(bert, tokenizer) -> None:
    tokens, att = sentence_attention(bert, tokenizer, "the unaffable bank")
    assert tokens == ["[CLS]", "the", "un", "##aff", "##able", "bank", "[SEP]"]
    assert att.shape == (2, 2, 7, 7)
    assert_close(att.sum(-1), torch.ones(2, 2, 7))
    assert sentence_attention(bert, tokenizer, ["the", "unaffable", "bank"])[0] == tokens  # words or a string


def test_head_statistics_equal_a_loop_over_single_sentences(bert, tokenizer) -> None:
    stats = head_statistics(bert, tokenizer, EXAMPLES, batch_size=3)  # padded batches of different lengths
    want = {name: torch.zeros(2, 2) for name in PATTERNS}
    inverse = 0.0
    for e in EXAMPLES:
        tokens, att = sentence_attention(bert, tokenizer, e.tokens)  # (L, A, T, T), no padding
        T = len(tokens)
        word_pieces = [len(tokenizer.tokenize(w)) for w in e.tokens]
        start = [1 + sum(word_pieces[:i]) for i in range(len(e.tokens))]
        cue = range(start[e.cue_position], start[e.cue_position] + word_pieces[e.cue_position])
        want["[SEP]"] += att[..., T - 1].mean(-1)
        want["[CLS]"] += att[..., 0].mean(-1)
        want["previous token"] += torch.stack([att[..., t, t - 1] for t in range(1, T)], -1).mean(-1)
        want["next token"] += torch.stack([att[..., t, t + 1] for t in range(T - 1)], -1).mean(-1)
        want["cue"] += att[..., start[e.position], list(cue)].sum(-1)
        inverse += 1 / T
    for name in PATTERNS:
        assert_close(stats.patterns[name], want[name] / len(EXAMPLES), atol=1e-5, rtol=1e-4)
    assert stats.uniform == pytest.approx(inverse / len(EXAMPLES))
    assert stats.num_sentences == len(EXAMPLES)
    assert_close(stats.ratio("cue"), stats.patterns["cue"] / stats.uniform)


def test_head_statistics_reads_the_cue_from_each_example(bert, tokenizer) -> None:
    """Moving cue_position moves the measured cue mass: nothing assumes where the cue stands."""
    left = head_statistics(bert, tokenizer, [sense("the bank floods", 1, 0)])
    right = head_statistics(bert, tokenizer, [sense("the bank floods", 1, 2)])
    _, att = sentence_attention(bert, tokenizer, "the bank floods")
    assert_close(left.patterns["cue"], att[..., 2, 1])  # from "bank" (token 2) to "the" (token 1)
    assert_close(right.patterns["cue"], att[..., 2, 3])
    with pytest.raises(ValueError):
        head_statistics(bert, tokenizer, [])


def test_bert_word_layers_do_not_depend_on_padding(bert, tokenizer) -> None:
    sentences = [e.tokens for e in EXAMPLES]
    positions = [e.position for e in EXAMPLES]
    layers = bert_word_layers(bert, tokenizer, sentences, positions, batch_size=2)
    assert len(layers) == 3 and all(h.shape == (len(EXAMPLES), 16) for h in layers)
    for i, (words, p) in enumerate(zip(sentences, positions, strict=True)):
        ids = torch.tensor([tokenizer.encode(" ".join(words)).input_ids])
        first_piece = 1 + sum(len(tokenizer.tokenize(w)) for w in words[:p])
        with torch.no_grad():
            alone = bert(ids, output_hidden_states=True)[0].hidden_states
        for j in range(3):
            assert_close(layers[j][i], alone[j][0, first_piece], atol=1e-5, rtol=1e-4)


def test_similarity_by_layer_separates_senses_only_when_the_vectors_do() -> None:
    g = torch.Generator().manual_seed(0)
    senses = [0, 1] * 6
    shared = torch.randn(1, 8, generator=g).expand(12, 8)  # a static vector: one row for every occurrence
    split = shared + 3.0 * torch.tensor(senses, dtype=torch.float)[:, None] * torch.eye(8)[0] + 0.1 * torch.randn(12, 8, generator=g)
    (raw_within, raw_across), = similarity_by_layer([shared], senses, centered=False)
    assert raw_within == pytest.approx(1.0) and raw_across == pytest.approx(1.0)
    (within, across), = similarity_by_layer([split], senses)
    assert within > 0.9 and across < -0.9  # centred: the two senses point opposite ways


def test_attention_explorer_model_view_headless(bert, tokenizer) -> None:
    explorer = AttentionExplorer(attention_function(bert, tokenizer), ["the bank floods", "the old sweaty palm"])
    assert explorer.attention.shape == (2, 2, 5, 5)
    explorer.view.value = "model"
    maps = [ax for ax in explorer.figure.axes if ax.get_label() != "<colorbar>"]
    assert len(maps) == 2 * 2  # one small map per layer and head
    assert len(explorer.figure.axes) == len(maps) + 1  # and one colour bar for all of them
    explorer.sentence.value = "the old sweaty palm"
    assert explorer.attention.shape == (2, 2, 6, 6)


# ------------------------------------------------------------------ a real (here: tiny, random) BERT folder


def test_pretrained_bert_or_none_skips_when_not_set() -> None:
    assert pretrained_bert_or_none("") is None
    assert pretrained_bert_or_none("   ") is None
    assert pretrained_bert_or_none(None) is None


def test_pretrained_bert_or_none_rejects_a_missing_folder(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="not a folder"):
        pretrained_bert_or_none(tmp_path / "no-such-bert")


def test_pretrained_bert_or_none_loads_a_save_pretrained_folder(tmp_path, tokenizer) -> None:
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    config = transformers.BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=16, num_hidden_layers=2,
                                     num_attention_heads=4, intermediate_size=32, max_position_embeddings=32,
                                     attn_implementation="eager")
    theirs = transformers.BertModel(config).eval()
    theirs.save_pretrained(tmp_path)
    tokenizer.save_vocab(tmp_path / "vocab.txt")
    loaded = pretrained_bert_or_none(str(tmp_path))
    assert loaded is not None
    ours, their_tokenizer = loaded
    assert isinstance(ours, BertModel) and their_tokenizer.vocab_size == tokenizer.vocab_size
    tokens, att = sentence_attention(ours, their_tokenizer, "The bank floods")  # lower-cased, as bert-base-uncased
    assert tokens == ["[CLS]", "the", "bank", "floods", "[SEP]"]
    ids = torch.tensor([their_tokenizer.convert_tokens_to_ids(tokens)])
    with torch.no_grad():
        ref = theirs(input_ids=ids, output_attentions=True).attentions
    assert_close(att, torch.stack([a[0] for a in ref]), atol=1e-5, rtol=1e-4)


def test_pretrained_bert_or_none_needs_the_vocabulary(tmp_path, tokenizer) -> None:
    transformers = pytest.importorskip("transformers")
    config = transformers.BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=16, num_hidden_layers=1,
                                     num_attention_heads=2, intermediate_size=32, max_position_embeddings=32)
    transformers.BertModel(config).save_pretrained(tmp_path)
    with pytest.raises(FileNotFoundError, match="vocab.txt"):
        pretrained_bert_or_none(tmp_path)
