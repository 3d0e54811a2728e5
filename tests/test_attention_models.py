"""course_lib.attention_models: the sense-lookup and sense-tagging tasks and the two small models."""

from __future__ import annotations

import pytest
import torch

from course_lib.attention import (
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

def test_lookup_examples_pair_two_words_and_point_at_the_query_and_its_cue(senses) -> None:
    world = toy_world()
    texts = sense_lookup_examples(senses, 200, seed=0)
    assert len(texts) == 200
    firsts = 0
    for e in texts:
        assert e.tokens[e.position] == e.query
        assert world.polysemous[e.query].senses[e.label] == e.sense
        assert e.tokens[e.cue_position] not in world.polysemous  # the cue is an ordinary word
        other = [w for w in e.tokens if w in world.polysemous and w != e.query]
        assert other, "the second sentence must be about another polysemous word"
        firsts += e.position < len(e.tokens) // 2
    assert 60 < firsts < 140  # the asked-about sentence comes first about half of the time


def test_lookup_examples_are_repeatable_and_need_two_words(senses) -> None:
    a, b = sense_lookup_examples(senses, 50, seed=3), sense_lookup_examples(senses, 50, seed=3)
    assert a == b and a != sense_lookup_examples(senses, 50, seed=4)
    one_word = [e for e in senses if e.word == senses[0].word]
    with pytest.raises(ValueError, match="two different words"):
        sense_lookup_examples(one_word, 10)


def test_lookup_batch_shapes(senses, vocab) -> None:
    texts = sense_lookup_examples(senses, 8, seed=0)
    batch = lookup_batch(texts, vocab)
    T = max(len(e.tokens) for e in texts)
    assert batch["input_ids"].shape == batch["attention_mask"].shape == (8, T)
    assert batch["query_ids"].shape == batch["labels"].shape == (8,)
    assert batch["attention_mask"].sum(1).tolist() == [len(e.tokens) for e in texts]


# ------------------------------------------------------------------ PoolingClassifier

@pytest.mark.parametrize("pooling", ["mean", "attention"])
def test_pooling_weights_are_distributions_that_ignore_padding(pooling, senses, vocab) -> None:
    batch = lookup_batch(sense_lookup_examples(senses, 16, seed=1), vocab)
    model = PoolingClassifier(len(vocab), dim=8, pooling=pooling)
    pooled, weights = model.pool(batch["input_ids"], batch["attention_mask"], batch["query_ids"])
    assert pooled.shape == (16, 8) and weights.shape == batch["input_ids"].shape
    torch.testing.assert_close(weights.sum(-1), torch.ones(16))
    assert (weights[batch["attention_mask"] == 0] == 0).all()
    if pooling == "mean":
        lengths = batch["attention_mask"].sum(1, keepdim=True).float()
        torch.testing.assert_close(weights, batch["attention_mask"] / lengths)


@pytest.mark.parametrize("pooling", ["mean", "attention"])
def test_padding_does_not_change_the_prediction(pooling, senses, vocab) -> None:
    texts = sense_lookup_examples(senses, 6, seed=2)
    model = PoolingClassifier(len(vocab), dim=8, pooling=pooling).eval()
    together, _ = model(**{k: v for k, v in lookup_batch(texts, vocab).items() if k != "labels"})
    alone = torch.cat([model(**{k: v for k, v in lookup_batch([e], vocab).items() if k != "labels"})[0]
                       for e in texts])
    torch.testing.assert_close(together, alone)


def test_pooling_classifier_returns_loss_only_with_labels_and_rejects_unknown_pooling(senses, vocab) -> None:
    batch = lookup_batch(sense_lookup_examples(senses, 4, seed=0), vocab)
    model = PoolingClassifier(len(vocab), dim=8)
    logits, loss = model(batch["input_ids"], batch["attention_mask"], batch["query_ids"])
    assert logits.shape == (4, 2) and loss is None
    _, loss = model(**batch)
    assert loss is not None and loss.dim() == 0
    with pytest.raises(ValueError, match="pooling"):
        PoolingClassifier(10, pooling="max")


def test_attention_pooling_overfits_one_batch(senses, vocab) -> None:
    batch = lookup_batch(sense_lookup_examples(senses, 32, seed=5), vocab)
    model = PoolingClassifier(len(vocab), dim=16, pooling="attention")
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
