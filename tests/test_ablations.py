"""The ablation models: the causal BERT (``is_decoder=True``) never reads ahead, the BiLSTM gives right context
back, each objective's step trains, and the cached pre-training is deterministic with a key covering its settings."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from torch.testing import assert_close

from course_lib.bert import (
    OBJECTIVES,
    BertConfig,
    BertForPreTraining,
    BertForSequenceClassification,
    BertForTokenClassification,
    BertModel,
    PackedBiLSTM,
    ToyBertSettings,
    next_token_accuracy,
    objective_step,
    pretrained_toy_bert,
    with_bilstm,
)


def tiny(vocab_size: int = 30) -> BertConfig:
    return BertConfig(vocab_size=vocab_size, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                      intermediate_size=32, max_position_embeddings=32, hidden_dropout_prob=0.0,
                      attention_probs_dropout_prob=0.0)


def causal(config: BertConfig) -> BertModel:
    torch.manual_seed(0)
    return BertModel(dataclasses.replace(config, is_decoder=True)).eval()


@pytest.mark.parametrize("T", [1, 5, 9])
def test_the_causal_model_never_sees_a_later_token(T) -> None:
    model = causal(tiny())
    ids = torch.randint(5, 30, (3, T))
    before = model(ids)[0].last_hidden_state
    for t in range(T):
        changed = ids.clone()
        changed[:, t:] = torch.randint(5, 30, (3, T - t))
        after = model(changed)[0].last_hidden_state
        assert_close(after[:, :t], before[:, :t])  # positions before t are untouched
        if t < T:
            assert not torch.allclose(after[:, t], before[:, t])


def test_it_equals_bert_run_on_each_prefix() -> None:
    config = tiny()
    model = causal(config)
    bert = BertModel(config).eval()  # the same weights, read both ways
    bert.load_state_dict(model.state_dict())
    ids = torch.randint(5, 30, (2, 6))
    ours, theirs = model(ids)[0].last_hidden_state, bert(ids)[0].last_hidden_state
    assert_close(ours[:, 0], bert(ids[:, :1])[0].last_hidden_state[:, 0])  # the first token sees only itself
    assert_close(ours, torch.stack([bert(ids[:, : t + 1])[0].last_hidden_state[:, t] for t in range(6)], 1),
                 atol=1e-4, rtol=1e-4)
    assert isinstance(model, BertModel) and not torch.allclose(ours, theirs)


def test_padding_changes_nothing_and_the_pooler_reads_the_last_real_token() -> None:
    model = causal(tiny())
    ids = torch.randint(5, 30, (1, 4))
    padded = torch.cat([ids, torch.zeros(1, 3, dtype=torch.long)], 1)
    mask = torch.tensor([[1, 1, 1, 1, 0, 0, 0]])
    out, _ = model(ids)
    out_padded, _ = model(padded, attention_mask=mask)
    assert_close(out_padded.last_hidden_state[:, :4], out.last_hidden_state)
    assert_close(out_padded.pooler_output, out.pooler_output)
    assert_close(out.pooler_output, torch.tanh(model.pooler.dense(out.last_hidden_state[:, -1])))


def test_the_bilstm_on_top_reads_the_right_context_again() -> None:
    model = with_bilstm(causal(tiny()), seed=0).eval()
    ids = torch.randint(5, 30, (2, 6))
    changed = ids.clone()
    changed[:, 5] = (ids[:, 5] - 4) % 25 + 5  # another token at the end
    a, b = model(ids)[0].last_hidden_state, model(changed)[0].last_hidden_state
    assert not torch.allclose(a[:, 0], b[:, 0])  # position 0 now depends on the last token
    assert a.shape == (2, 6, 16)
    heads = [BertForTokenClassification.from_encoder(model, 3), BertForSequenceClassification.from_encoder(model, 2)]
    for head in heads:
        assert isinstance(head.bert.top, PackedBiLSTM) and head.bert.config.is_decoder
        assert head(ids)[0].logits.shape[0] == 2


def test_with_bilstm_copies_the_encoder_and_follows_its_seed() -> None:
    encoder = causal(tiny())
    a, b = with_bilstm(encoder, seed=1), with_bilstm(encoder, seed=1)
    assert_close(a.top.lstm.weight_ih_l0, b.top.lstm.weight_ih_l0)
    assert encoder.top is None  # the encoder itself is untouched
    assert_close(a.encoder.layer[0].attention.self.query.weight, encoder.encoder.layer[0].attention.self.query.weight)


def pretraining_batch(V: int = 30, B: int = 4, T: int = 8) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(5, V, (B, T), generator=g)
    labels = torch.full_like(ids, -100)
    labels[:, 2] = ids[:, 2]
    masked = ids.clone()
    masked[:, 2] = 4  # [MASK]
    mask = torch.ones_like(ids)
    mask[0, -2:] = 0
    return {"input_ids": masked, "token_type_ids": torch.zeros_like(ids), "attention_mask": mask, "labels": labels,
            "next_sentence_label": torch.tensor([0, 1, 0, 1])}


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_each_objective_overfits_one_batch(objective) -> None:
    torch.manual_seed(0)
    model = BertForPreTraining(dataclasses.replace(tiny(), is_decoder=objective == "ltr"))
    batch = pretraining_batch()
    step = objective_step(objective)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    first = None
    for _ in range(60):
        loss, _ = step(model, batch)
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.2 * first


def test_the_steps_compute_what_they_say() -> None:
    torch.manual_seed(0)
    model = BertForPreTraining(tiny()).eval()
    batch = pretraining_batch()
    mlm_only = objective_step("mlm")(model, batch)[0]
    full = model(**{k: v for k, v in batch.items() if k != "next_sentence_label"})[1]
    assert_close(mlm_only, full)
    assert objective_step("mlm+nsp")(model, batch)[0] > mlm_only  # NSP adds a positive term
    causal_model = BertForPreTraining(dataclasses.replace(tiny(), is_decoder=True)).eval()
    assert causal_model.cls.predictions.decoder.weight is causal_model.bert.embeddings.word_embeddings.weight
    ltr = objective_step("ltr")(causal_model, batch)[0]
    metrics = next_token_accuracy(causal_model, [batch])
    assert_close(torch.tensor(metrics["val_loss"]), ltr.detach(), rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="objective"):
        objective_step("nsp")


def test_a_batch_with_no_masked_position_has_a_zero_mlm_loss_not_nan() -> None:
    torch.manual_seed(0)
    model = BertForPreTraining(tiny())
    batch = pretraining_batch()
    batch["labels"] = torch.full_like(batch["labels"], -100)  # nothing selected
    loss, _ = objective_step("mlm")(model, batch)
    assert loss.item() == 0.0 and loss.requires_grad
    full, _ = objective_step("mlm+nsp")(model, batch)
    assert torch.isfinite(full) and full.item() > 0  # the NSP term alone
    assert torch.isfinite(model(**{k: v for k, v in batch.items()})[1])


def test_pretrained_ablation_is_deterministic_and_keyed(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("COURSE_LIB_CACHE", str(tmp_path))
    small = dict(steps=3, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, vocab_size=300,
                 num_documents=40, batch_size=8)
    ltr = ToyBertSettings(objective="ltr", **small)
    a, _, history = pretrained_toy_bert(ltr, progress=False)
    assert a.bert.config.is_decoder and "next_token_accuracy" in history.evals[-1]
    files = list((tmp_path / "models").glob("*.pt"))
    assert len(files) == 1 and files[0].name.startswith("toy-bert-ltr-")
    b, _, _ = pretrained_toy_bert(ltr, progress=False)  # from the cache
    assert len(list((tmp_path / "models").glob("*.pt"))) == 1
    for (name, p), q in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(p, q), name
    pretrained_toy_bert(dataclasses.replace(ltr, lr=1e-3), progress=False)  # another setting: another model
    pretrained_toy_bert(dataclasses.replace(ltr, objective="mlm"), progress=False)
    assert len(list((tmp_path / "models").glob("*.pt"))) == 3
    (tmp_path / "models" / files[0].name).unlink()
    c, _, _ = pretrained_toy_bert(ltr, progress=False)  # trained again from scratch: the same weights
    for p, q in zip(a.state_dict().values(), c.state_dict().values(), strict=True):
        assert torch.equal(p, q)
