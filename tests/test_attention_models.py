"""course_lib.attention_models: the sense-lookup and sense-tagging tasks and the two small models."""

from __future__ import annotations

from collections import Counter

import pytest
import torch

from course_lib.attention import (
    LOOKUP_KINDS,
    NO_SENSE,
    PoolingClassifier,
    SelfAttentionTagger,
    lookup_batch,
    sense_lookup_examples,
    sense_tagging_batch,
    sense_tagging_labels,
)
from course_lib.data import sense_examples, toy_world, toyworld_corpus
from course_lib.text import Vocab

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def sentences():
    corpus = toyworld_corpus("train", seed=0, num_documents=120)
    return [s for s in corpus if s.info.get("kind") == "polysemous"]


@pytest.fixture(scope="module")
def senses():
    return sense_examples(toyworld_corpus("train", seed=0, num_documents=120))


@pytest.fixture(scope="module")
def vocab(sentences):
    return Vocab.build(s.tokens for s in sentences)


# ------------------------------------------------------------------ sense lookup data

def test_lookup_examples_point_at_the_query_and_its_cue(senses) -> None:
    world = toy_world()
    texts = sense_lookup_examples(senses, 400, seed=0)
    assert len(texts) == 400
    firsts = 0
    for e in texts:
        assert e.tokens[e.position] == e.query
        assert world.polysemous[e.query].senses[e.label] == e.sense
        cue, other_cue = e.tokens[e.cue_position], e.tokens[e.other_cue_position]
        assert cue not in world.polysemous and other_cue not in world.polysemous  # cues are ordinary words
        assert cue in world.polysemous[e.query].cues[e.label]  # the cue decides the asked-about word's sense
        entry = world.polysemous[e.other_word]
        assert other_cue in entry.cues[entry.senses.index(e.other_sense)]
        assert e.other_word in e.tokens and abs(e.cue_position - e.other_cue_position) > 1  # two sentences
        firsts += e.position < e.other_cue_position
    assert 140 < firsts < 260  # the asked-about sentence comes first about half of the time
    kinds = Counter(e.kind for e in texts)
    assert set(kinds) == set(LOOKUP_KINDS)
    assert 150 < kinds["other word"] < 250  # same_word=0.5: half of the texts pair two sentences of one word
    assert kinds["same word, other sense"] > 50  # the texts a bag of words cannot answer


def test_same_word_share_is_what_was_asked(senses) -> None:
    assert {e.kind for e in sense_lookup_examples(senses, 100, seed=1, same_word=0.0)} == {"other word"}
    same = sense_lookup_examples(senses, 100, seed=1, same_word=1.0)
    assert all(e.other_word == e.query for e in same)
    assert {e.kind for e in same} == {"same word, same sense", "same word, other sense"}
    with pytest.raises(ValueError, match="same_word"):
        sense_lookup_examples(senses, 10, same_word=1.5)


def test_lookup_examples_are_repeatable_and_need_two_words(senses) -> None:
    a, b = sense_lookup_examples(senses, 50, seed=3), sense_lookup_examples(senses, 50, seed=3)
    assert a == b and a != sense_lookup_examples(senses, 50, seed=4)
    one_word = [e for e in senses if e.word == senses[0].word]
    with pytest.raises(ValueError, match="two different words"):
        sense_lookup_examples(one_word, 10)
    assert all(e.query == senses[0].word for e in sense_lookup_examples(one_word, 10, same_word=1.0))
    with pytest.raises(ValueError, match="two sentences of one polysemous word"):
        sense_lookup_examples([next(e for e in senses if e.word == w) for w in {e.word for e in senses}], 10)


def test_lookup_batch_shapes(senses, vocab) -> None:
    texts = sense_lookup_examples(senses, 8, seed=0)
    batch = lookup_batch(texts, vocab)
    T = max(len(e.tokens) for e in texts)
    assert batch["input_ids"].shape == batch["attention_mask"].shape == (8, T)
    assert batch["query_positions"].shape == batch["labels"].shape == (8,)
    assert batch["attention_mask"].sum(1).tolist() == [len(e.tokens) for e in texts]
    assert batch["query_positions"].tolist() == [e.position for e in texts]


# ------------------------------------------------------------------ PoolingClassifier

def _inputs(batch: dict) -> dict:
    return {k: v for k, v in batch.items() if k != "labels"}


@pytest.mark.parametrize("pooling", ["mean", "attention"])
@pytest.mark.parametrize("head", ["linear", "mlp"])
def test_pooling_weights_are_distributions_that_ignore_padding(pooling, head, senses, vocab) -> None:
    batch = lookup_batch(sense_lookup_examples(senses, 16, seed=1), vocab)
    model = PoolingClassifier(len(vocab), dim=8, pooling=pooling, head=head)
    pooled, weights = model.pool(**_inputs(batch))
    assert pooled.shape == (16, 8) and weights.shape == batch["input_ids"].shape
    torch.testing.assert_close(weights.sum(-1), torch.ones(16))
    assert (weights[batch["attention_mask"] == 0] == 0).all()
    if pooling == "mean":
        lengths = batch["attention_mask"].sum(1, keepdim=True).float()
        torch.testing.assert_close(weights, batch["attention_mask"] / lengths)
    assert model(**_inputs(batch))[0].shape == (16, 2)


def test_word_vectors_add_the_offset_from_the_asked_about_word(vocab) -> None:
    model = PoolingClassifier(len(vocab), dim=4, max_offset=2)
    ids = torch.tensor([[5, 6, 7, 8, 9, 10]])
    x = model.word_vectors(ids, torch.tensor([1]))  # offsets -1, 0, 1, 2, 3 -> clipped to 2, 4 -> 2
    offsets = torch.tensor([-1, 0, 1, 2, 2, 2]) + 2
    torch.testing.assert_close(x[0], model.embed(ids[0]) + model.offset(offsets))


def test_mean_pooling_cannot_tell_which_cue_stands_where(vocab) -> None:
    """Swapping the two cues of a same-word text leaves a mean-pooled model's answer unchanged; attention's moves."""
    ids = vocab.encode("the crane wades the crane hoists".split())
    swapped = vocab.encode("the crane hoists the crane wades".split())
    batch = {"input_ids": torch.tensor([ids, swapped]), "attention_mask": torch.ones(2, 6, dtype=torch.long),
             "query_positions": torch.tensor([1, 1])}
    torch.manual_seed(0)
    mean = PoolingClassifier(len(vocab), dim=8, pooling="mean", head="mlp").eval()
    logits, _ = mean(**batch)
    torch.testing.assert_close(logits[0], logits[1])  # the same words at the same offsets, only bound otherwise
    attention = PoolingClassifier(len(vocab), dim=8, pooling="attention").eval()
    logits, _ = attention(**batch)
    assert (logits[0] - logits[1]).abs().max() > 1e-4


@pytest.mark.parametrize("pooling", ["mean", "attention"])
def test_padding_does_not_change_the_prediction(pooling, senses, vocab) -> None:
    texts = sense_lookup_examples(senses, 6, seed=2)
    model = PoolingClassifier(len(vocab), dim=8, pooling=pooling, head="mlp").eval()
    together, _ = model(**_inputs(lookup_batch(texts, vocab)))
    alone = torch.cat([model(**_inputs(lookup_batch([e], vocab)))[0] for e in texts])
    torch.testing.assert_close(together, alone)


def test_pooling_classifier_returns_loss_only_with_labels_and_rejects_bad_settings(senses, vocab) -> None:
    batch = lookup_batch(sense_lookup_examples(senses, 4, seed=0), vocab)
    model = PoolingClassifier(len(vocab), dim=8)
    logits, loss = model(batch["input_ids"], batch["attention_mask"], batch["query_positions"])
    assert logits.shape == (4, 2) and loss is None
    _, loss = model(**batch)
    assert loss is not None and loss.dim() == 0
    with pytest.raises(ValueError, match="pooling"):
        PoolingClassifier(10, pooling="max")
    with pytest.raises(ValueError, match="head"):
        PoolingClassifier(10, head="deep")


def test_query_positions_must_point_at_real_words(senses, vocab) -> None:
    batch = lookup_batch(sense_lookup_examples(senses, 4, seed=0), vocab)
    model = PoolingClassifier(len(vocab), dim=8)
    short = int(batch["attention_mask"].sum(1).argmin())
    outside = batch["query_positions"].clone()
    outside[short] = batch["input_ids"].shape[1]
    with pytest.raises(ValueError, match="query_positions"):
        model(batch["input_ids"], batch["attention_mask"], outside)
    if batch["attention_mask"][short].min() == 0:  # a padded row: point at its padding
        padding = batch["query_positions"].clone()
        padding[short] = batch["input_ids"].shape[1] - 1
        with pytest.raises(ValueError, match="padding"):
            model(batch["input_ids"], batch["attention_mask"], padding)
    with pytest.raises(ValueError, match="query_positions"):
        model(batch["input_ids"], batch["attention_mask"], batch["query_positions"][:2])


@pytest.mark.parametrize("head", ["linear", "mlp"])
def test_attention_pooling_overfits_one_batch(head, senses, vocab) -> None:
    batch = lookup_batch(sense_lookup_examples(senses, 32, seed=5), vocab)
    torch.manual_seed(0)
    model = PoolingClassifier(len(vocab), dim=16, pooling="attention", head=head)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(100):
        _, loss = model(**batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.05


# ------------------------------------------------------------------ sense tagging

def test_sense_tagging_labels_and_batch(sentences, vocab) -> None:
    labels = sense_tagging_labels(sentences)
    assert labels[0] == NO_SENSE and labels[1:] == sorted(labels[1:]) and len(set(labels)) == len(labels)
    batch = sense_tagging_batch(sentences[:5], vocab, labels)
    tags, mask = batch["labels"], batch["attention_mask"]
    assert (tags[mask == 0] == -100).all() and (tags[mask == 1] >= 0).all()
    for i, s in enumerate(sentences[:5]):
        for t, sense in enumerate(s.senses):
            assert labels[tags[i, t]] == (sense or NO_SENSE)


@pytest.mark.parametrize("num_layers", [1, 2])
def test_tagger_shapes_and_attention(num_layers, sentences, vocab) -> None:
    labels = sense_tagging_labels(sentences)
    batch = sense_tagging_batch(sentences[:6], vocab, labels)
    model = SelfAttentionTagger(len(vocab), len(labels), d_model=16, num_heads=4, num_layers=num_layers)
    logits, loss = model(batch["input_ids"], batch["attention_mask"])
    B, T = batch["input_ids"].shape
    assert logits.shape == (B, T, len(labels)) and loss is None
    weights = model.attention(batch["input_ids"], batch["attention_mask"])
    assert len(weights) == num_layers and model.training  # attention() leaves the mode as it was
    for w in weights:
        assert w.shape == (B, 4, T, T)
        torch.testing.assert_close(w.sum(-1), torch.ones(B, 4, T))
        padding_keys = (batch["attention_mask"] == 0)[:, None, None, :].expand_as(w)
        assert (w[padding_keys] == 0).all()  # no query looks at padding


def test_tagger_padding_does_not_change_real_tokens(sentences, vocab) -> None:
    labels = sense_tagging_labels(sentences)
    model = SelfAttentionTagger(len(vocab), len(labels), d_model=16, num_heads=2).eval()
    batch = sense_tagging_batch(sentences[:4], vocab, labels)
    together, _ = model(batch["input_ids"], batch["attention_mask"])
    for i, s in enumerate(sentences[:4]):
        alone = sense_tagging_batch([s], vocab, labels)
        logits, _ = model(alone["input_ids"], alone["attention_mask"])
        torch.testing.assert_close(together[i, : len(s)], logits[0])


def test_tagger_overfits_one_batch(sentences, vocab) -> None:
    labels = sense_tagging_labels(sentences)
    batch = sense_tagging_batch(sentences[:32], vocab, labels)
    model = SelfAttentionTagger(len(vocab), len(labels), d_model=32, num_heads=4, num_layers=1)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(100):
        _, loss = model(**batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.05
