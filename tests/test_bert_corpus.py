"""The toy BERT's corpus setting: the default toy world trains exactly what it trained before the setting existed,
"toyworld-families" pre-trains (every objective), the corpus is in the cache key, and an unknown one is refused."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from course_lib.bert import (
    BertForPreTraining,
    BertForTokenClassification,
    ToyBertSettings,
    objective_step,
    pretrained_toy_bert,
    toy_bert_config,
    toy_wordpiece,
    with_bilstm,
)
from course_lib.bert.pretraining import pretraining_accuracy, pretraining_batches
from course_lib.bert.toy import ppmi_word_embeddings
from course_lib.core import fit, recipe_key, seeded
from course_lib.core.cache import torch_threads
from course_lib.data import named_toy_world, toyworld_corpus
from course_lib.text import WordPieceTokenizer

TINY = dict(steps=3, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, vocab_size=300, num_documents=40,
            batch_size=8, evaluations=1)


def reference_toy_bert(settings: ToyBertSettings) -> tuple[WordPieceTokenizer, BertForPreTraining, list]:
    """What ``ToyBertSettings.train`` did before it had a ``corpus`` field, written out from ``toyworld_corpus``:
    the tokenizer, the trained model and its held-out evaluations."""
    train = toyworld_corpus("train", seed=settings.seed, num_documents=settings.num_documents)
    tokenizer = WordPieceTokenizer.train([" ".join(s.tokens) for s in train.sentences()], settings.vocab_size)
    config = toy_bert_config(tokenizer.vocab_size, settings.hidden_size, settings.num_hidden_layers,
                             settings.num_attention_heads, 4 * settings.hidden_size, settings.initializer_range)
    with seeded(settings.seed), torch_threads(settings.threads):
        model = BertForPreTraining(config)
        held_out = list(pretraining_batches(toyworld_corpus("validation", seed=settings.seed, num_documents=300),
                                            tokenizer, 256, settings.max_length, seed=settings.seed + 1000)())
        ppmi_word_embeddings(model, train, tokenizer, window=settings.ppmi_window)
        batches = pretraining_batches(train, tokenizer, settings.batch_size, settings.max_length, settings.seed)
        history = fit(model, batches, settings.train_config("cpu", progress=False),
                      evaluate=lambda m: pretraining_accuracy(m, held_out, tokenizer.mask_token_id),
                      step=objective_step(settings.objective))
    return tokenizer, model.eval(), history.evals


def test_the_default_corpus_trains_the_same_tokenizer_and_weights_as_the_toy_world_itself(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_LIB_CACHE", str(tmp_path))
    settings = ToyBertSettings(**TINY)
    assert settings.corpus == "toyworld" and settings.name == "toy-bert"
    tokenizer, reference, evals = reference_toy_bert(settings)
    model, got_tokenizer, history = pretrained_toy_bert(settings, device="cpu", progress=False)
    assert got_tokenizer.vocab == tokenizer.vocab
    assert toy_wordpiece(300, 40, 0).vocab == tokenizer.vocab  # called without the corpus, as before
    assert history.evals == evals and len(evals) >= 1
    expected = reference.state_dict()
    for name, value in model.state_dict().items():
        assert torch.equal(value, expected[name]), name


def test_the_corpus_is_in_the_cache_key_and_the_file_name():
    default, families = ToyBertSettings(), ToyBertSettings(corpus="toyworld-families")
    assert default.key_settings()["corpus"] == "toyworld"
    assert recipe_key(default) != recipe_key(families)
    assert recipe_key(default) == recipe_key(ToyBertSettings(corpus="toyworld"))  # spelled out: the same entry
    assert (default.name, families.name) == ("toy-bert", "toy-bert-families")
    assert dataclasses.replace(families, objective="ltr").name == "toy-bert-ltr-families"


def test_an_unknown_corpus_is_refused_with_the_available_ones():
    with pytest.raises(ValueError, match=r"ToyBertSettings\.corpus must be one of 'toyworld', "
                                         r"'toyworld-families', got 'wikitext-2'"):
        ToyBertSettings(corpus="wikitext-2")
    with pytest.raises(TypeError, match=r"ToyBertSettings\.corpus"):
        ToyBertSettings(corpus=None)
    with pytest.raises(ValueError, match=r"one of 'toyworld', 'toyworld-families'; got 'toyworld_families'"):
        toy_wordpiece(300, 40, 0, "toyworld_families")


def test_a_tiny_families_pretraining_runs_for_every_objective(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_LIB_CACHE", str(tmp_path))
    settings = ToyBertSettings(corpus="toyworld-families", **TINY)
    tokenizer = settings.tokenizer()
    world = named_toy_world("toyworld-families")
    train = world.corpus("train", 0, 40)
    assert tokenizer.vocab == WordPieceTokenizer.train([" ".join(s.tokens) for s in train.sentences()], 300).vocab
    assert tokenizer.vocab != ToyBertSettings(**TINY).tokenizer().vocab  # another world, another vocabulary
    assert any("kind" in s.info for s in train)  # the families are in what it reads
    pretrained_toy_bert(ToyBertSettings(**TINY), device="cpu", progress=False)
    for objective in ("mlm+nsp", "mlm", "ltr"):
        model, _, history = pretrained_toy_bert(dataclasses.replace(settings, objective=objective), device="cpu",
                                                progress=False)
        assert history.train_loss and torch.isfinite(torch.tensor(history.train_loss)).all()
        monitor = "next_token_accuracy" if objective == "ltr" else "mask_accuracy"
        assert 0.0 <= history.evals[-1][monitor] <= 1.0
    names = sorted(p.name.rsplit("-", 1)[0] for p in (tmp_path / "models").glob("*.pt"))
    assert names == ["toy-bert", "toy-bert-families", "toy-bert-ltr-families", "toy-bert-mlm-families"]
    # the ablations' fine-tuning recipes take it as they take the default one: a causal encoder + BiLSTM
    assert model.bert.config.is_decoder
    tagger = BertForTokenClassification.from_encoder(with_bilstm(model.bert), num_labels=2)
    batch = next(iter(pretraining_batches(train, tokenizer, 4, 32, seed=0)()))
    logits = tagger(batch["input_ids"], batch["token_type_ids"], batch["attention_mask"])[0].logits
    assert logits.shape == (*batch["input_ids"].shape, 2) and torch.isfinite(logits).all()
