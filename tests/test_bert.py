"""course_lib.bert: equivalence with Hugging Face transformers, loading, masking, NSP pairs, parameter formula."""

from __future__ import annotations

import json
import os

import pytest
import torch
from torch.testing import assert_close

from course_lib.bert import (
    BertConfig,
    BertForPreTraining,
    BertModel,
    load_pretrained,
    mask_tokens,
    next_sentence_batch,
    save_pretrained,
    toy_wordpiece,
)
from course_lib.text import WordPieceTokenizer
from course_lib.text.vocab import BERT_SPECIAL_TOKENS

os.environ.setdefault("HF_HUB_OFFLINE", "1")

SHAPES = [  # (vocab, hidden, layers, heads, intermediate, positions, act)
    (50, 16, 1, 2, 32, 20, "gelu"),
    (97, 24, 2, 3, 40, 33, "relu"),
    (120, 32, 3, 4, 64, 16, "gelu_new"),
]


def _hf_config(shape):
    transformers = pytest.importorskip("transformers")
    V, H, L, A, ff, P, act = shape
    return transformers.BertConfig(vocab_size=V, hidden_size=H, num_hidden_layers=L, num_attention_heads=A,
                                   intermediate_size=ff, max_position_embeddings=P, hidden_act=act)


def _inputs(V, P, seed=0):
    g = torch.Generator().manual_seed(seed)
    B, T = 3, min(P, 12)
    ids = torch.randint(5, V, (B, T), generator=g)
    types = torch.zeros(B, T, dtype=torch.long)
    types[:, T // 2:] = 1
    mask = torch.ones(B, T, dtype=torch.long)
    mask[1, T - 4:] = 0  # padding at the end of one sequence
    mask[2, T - 1:] = 0
    return ids, types, mask


def _vocab(V):
    return list(BERT_SPECIAL_TOKENS) + [f"w{i}" for i in range(V - len(BERT_SPECIAL_TOKENS))]


@pytest.mark.parametrize("shape", SHAPES)
def test_bert_model_equals_transformers(shape, tmp_path):
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    theirs = transformers.BertModel(_hf_config(shape)).eval()
    theirs.save_pretrained(tmp_path)
    (tmp_path / "vocab.txt").write_text("".join(t + "\n" for t in _vocab(shape[0])))
    ours, tokenizer = load_pretrained(tmp_path)
    assert isinstance(ours, BertModel) and tokenizer.vocab_size == shape[0]
    ids, types, mask = _inputs(shape[0], shape[5])
    with torch.no_grad():
        ref = theirs(input_ids=ids, token_type_ids=types, attention_mask=mask)
        out, loss = ours(ids, types, mask)
    assert loss is None
    assert_close(out.last_hidden_state, ref.last_hidden_state, atol=1e-5, rtol=1e-5)
    assert_close(out.pooler_output, ref.pooler_output, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("shape", SHAPES)
def test_bert_for_pretraining_equals_transformers(shape, tmp_path):
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(1)
    theirs = transformers.BertForPreTraining(_hf_config(shape)).eval()
    theirs.save_pretrained(tmp_path)
    ours, tokenizer = load_pretrained(tmp_path, BertForPreTraining)
    assert tokenizer is None  # no vocab.txt in this folder
    assert ours.cls.predictions.decoder.weight is ours.bert.embeddings.word_embeddings.weight
    ids, types, mask = _inputs(shape[0], shape[5], seed=2)
    labels = torch.where(torch.rand(ids.shape) < 0.3, ids, torch.full_like(ids, -100))
    nsp = torch.tensor([0, 1, 0])
    with torch.no_grad():
        ref = theirs(input_ids=ids, token_type_ids=types, attention_mask=mask, labels=labels,
                     next_sentence_label=nsp)
        out, loss = ours(ids, types, mask, labels=labels, next_sentence_label=nsp)
    assert_close(out.prediction_logits, ref.prediction_logits, atol=1e-5, rtol=1e-5)
    assert_close(out.seq_relationship_logits, ref.seq_relationship_logits, atol=1e-5, rtol=1e-5)
    assert_close(loss, ref.loss, atol=1e-5, rtol=1e-5)


def test_pretraining_checkpoint_loads_into_bert_model(tmp_path):
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(3)
    theirs = transformers.BertForPreTraining(_hf_config(SHAPES[0])).eval()
    theirs.save_pretrained(tmp_path)
    ours, _ = load_pretrained(tmp_path)  # the bert. part of the checkpoint, heads dropped
    ids, types, mask = _inputs(50, 20)
    with torch.no_grad():
        assert_close(ours(ids, types, mask)[0].last_hidden_state,
                     theirs.bert(input_ids=ids, token_type_ids=types, attention_mask=mask).last_hidden_state,
                     atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("tie", [True, False])
def test_checkpoint_from_transformers_tied_or_untied_loads_equal(tie, tmp_path):
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(4)
    config = _hf_config(SHAPES[1])
    config.tie_word_embeddings = tie
    theirs = transformers.BertForPreTraining(config).eval()
    untied = theirs.cls.predictions.decoder.weight is not theirs.bert.embeddings.word_embeddings.weight
    assert untied == (not tie)
    if not tie:  # make the decoder visibly different from the embeddings, as after untied training
        with torch.no_grad():
            theirs.cls.predictions.decoder.weight.normal_(0.0, 0.5)
    theirs.save_pretrained(tmp_path)
    ours, _ = load_pretrained(tmp_path, BertForPreTraining)
    assert ours.config.tie_word_embeddings is tie
    assert (ours.cls.predictions.decoder.weight is ours.bert.embeddings.word_embeddings.weight) is tie
    ids, types, mask = _inputs(SHAPES[1][0], SHAPES[1][5], seed=5)
    labels = torch.where(torch.rand(ids.shape) < 0.3, ids, torch.full_like(ids, -100))
    nsp = torch.tensor([1, 0, 1])
    with torch.no_grad():
        ref = theirs(input_ids=ids, token_type_ids=types, attention_mask=mask, labels=labels,
                     next_sentence_label=nsp, output_hidden_states=True)
        out, loss = ours(ids, types, mask, labels=labels, next_sentence_label=nsp)
    assert_close(out.prediction_logits, ref.prediction_logits, atol=1e-5, rtol=1e-5)
    assert_close(out.last_hidden_state, ref.hidden_states[-1], atol=1e-5, rtol=1e-5)
    assert_close(out.seq_relationship_logits, ref.seq_relationship_logits, atol=1e-5, rtol=1e-5)
    assert_close(loss, ref.loss, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("tie", [True, False])
def test_save_pretrained_keeps_the_flag_and_transformers_loads_it_equal(tie, tmp_path):
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(6)
    V = SHAPES[0][0]
    config = BertConfig(vocab_size=V, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=20, tie_word_embeddings=tie)
    ours = BertForPreTraining(config).eval()
    with torch.no_grad():  # non-zero biases everywhere, so that a bias left behind would show
        for name, p in ours.named_parameters():
            if name.endswith("bias"):
                p.normal_(0.0, 0.1)
    tokenizer = WordPieceTokenizer(_vocab(V))
    folder = save_pretrained(ours, tmp_path / "ours", tokenizer)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ours"]  # no temporary folder left
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.safetensors", "vocab.txt"]
    assert json.loads((folder / "config.json").read_text())["tie_word_embeddings"] is tie
    theirs, info = transformers.BertForPreTraining.from_pretrained(folder, output_loading_info=True)
    theirs.eval()
    assert not info["missing_keys"] and not info["unexpected_keys"] and not info["mismatched_keys"]
    assert theirs.config.tie_word_embeddings is tie
    assert (theirs.cls.predictions.decoder.weight is theirs.bert.embeddings.word_embeddings.weight) is tie
    back, back_tokenizer = load_pretrained(folder, BertForPreTraining)
    assert back.config == config and back_tokenizer.ids_to_tokens == tokenizer.ids_to_tokens
    ids, types, mask = _inputs(V, 20, seed=7)
    with torch.no_grad():
        mine = ours(ids, types, mask)[0]
        ref = theirs(input_ids=ids, token_type_ids=types, attention_mask=mask)
        again = back(ids, types, mask)[0]
    assert_close(mine.prediction_logits, ref.prediction_logits, atol=1e-5, rtol=1e-5)
    assert_close(mine.seq_relationship_logits, ref.seq_relationship_logits, atol=1e-5, rtol=1e-5)
    assert torch.equal(mine.prediction_logits, again.prediction_logits)
    encoder, info = transformers.BertModel.from_pretrained(save_pretrained(ours.bert, tmp_path / "encoder"),
                                                           output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"]
    with torch.no_grad():
        assert_close(encoder.eval()(input_ids=ids, token_type_ids=types, attention_mask=mask).last_hidden_state,
                     mine.last_hidden_state, atol=1e-5, rtol=1e-5)


def _save_ours(model: torch.nn.Module, folder, state=None):
    from safetensors.torch import save_file
    folder.mkdir(exist_ok=True)
    (folder / "config.json").write_text(json.dumps(model.config.__dict__))
    save_file({k: v.contiguous() for k, v in (state or model.state_dict()).items()}, str(folder / "model.safetensors"))


def test_load_errors_name_the_keys(tmp_path):
    config = BertConfig(vocab_size=40, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=16)
    model = BertModel(config)
    state = dict(model.state_dict())
    state.pop("pooler.dense.bias")
    state["encoder.layer.0.attention.self.extra"] = torch.zeros(3)
    state["encoder.layer.0.intermediate.dense.weight"] = torch.zeros(31, 16)
    _save_ours(model, tmp_path / "bad", state)
    with pytest.raises(ValueError) as err:
        load_pretrained(tmp_path / "bad")
    message = str(err.value)
    for name in ("pooler.dense.bias", "encoder.layer.0.attention.self.extra",
                 "encoder.layer.0.intermediate.dense.weight"):
        assert name in message
    assert "(32, 16)" in message and "(31, 16)" in message


def test_round_trip_and_pytorch_bin(tmp_path):
    torch.manual_seed(0)
    model = BertForPreTraining(BertConfig.tiny(vocab_size=60)).eval()
    folder = tmp_path / "bin"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(model.config.__dict__))
    torch.save(model.state_dict(), folder / "pytorch_model.bin")
    loaded, _ = load_pretrained(folder, BertForPreTraining)
    ids = torch.randint(5, 60, (2, 7))
    with torch.no_grad():
        assert_close(loaded(ids)[0].prediction_logits, model(ids)[0].prediction_logits)
    with pytest.raises(FileNotFoundError, match="config.json"):
        load_pretrained(tmp_path / "nowhere")


@pytest.mark.parametrize("config, expected", [(BertConfig.base(), 110e6), (BertConfig.large(), 335e6)])
def test_parameter_formula_on_meta_device(config, expected):
    with torch.device("meta"):
        model = BertModel(config)
        heads = BertForPreTraining(config)
    assert model.num_parameters() == config.num_parameters()
    assert heads.num_parameters() == config.num_parameters(pretraining_heads=True)
    assert abs(config.num_parameters() - expected) / expected < 0.02  # the paper's 110M and 340M
    V, H, L = config.vocab_size, config.hidden_size, config.num_hidden_layers
    assert abs(config.num_parameters() - (V * H + 12 * L * H * H)) / config.num_parameters() < 0.015  # + P·H, pooler, biases


@pytest.mark.parametrize("shape", SHAPES)
def test_parameter_formula_small_shapes(shape):
    V, H, L, A, ff, P, act = shape
    config = BertConfig(vocab_size=V, hidden_size=H, num_hidden_layers=L, num_attention_heads=A,
                        intermediate_size=ff, max_position_embeddings=P, hidden_act=act)
    assert BertModel(config).num_parameters() == config.num_parameters()
    assert BertForPreTraining(config).num_parameters() == config.num_parameters(pretraining_heads=True)


def test_attention_weights_and_shapes():
    model = BertModel(BertConfig.tiny(vocab_size=30)).eval()
    ids = torch.randint(5, 30, (2, 6))
    mask = torch.tensor([[1] * 6, [1] * 4 + [0] * 2])
    out, _ = model(ids, attention_mask=mask, output_attentions=True)
    plain, _ = model(ids, attention_mask=mask)
    assert len(out.attentions) == 2 and out.attentions[0].shape == (2, 4, 6, 6)
    assert_close(out.attentions[1].sum(-1), torch.ones(2, 4, 6))
    assert (out.attentions[0][1, :, :, 4:] == 0).all()  # padding gets no attention
    assert_close(out.last_hidden_state, plain.last_hidden_state, atol=1e-5, rtol=1e-5)


def test_overfit_one_batch():
    from course_lib.core import TrainConfig, fit
    torch.manual_seed(0)
    config = BertConfig(vocab_size=30, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                        intermediate_size=64, max_position_embeddings=16, hidden_dropout_prob=0.0,
                        attention_probs_dropout_prob=0.0)
    model = BertForPreTraining(config)
    ids = torch.randint(5, 30, (4, 10))
    labels = torch.where(torch.arange(10) % 3 == 1, ids, torch.full_like(ids, -100))
    inputs = torch.where(labels != -100, torch.full_like(ids, 4), ids)
    batch = {"input_ids": inputs, "labels": labels, "next_sentence_label": torch.tensor([0, 1, 1, 0])}
    history = fit(model, [batch], TrainConfig(steps=60, lr=5e-3, progress=False, device="cpu"))
    assert history.train_loss[0] > 3.0 and history.train_loss[-1] < 0.05


# ---------------------------------------------------------------------------------- masking

def _tokenizer(V=200):
    return WordPieceTokenizer(_vocab(V - 20) + [f"##p{i}" for i in range(20)])


def test_mask_tokens_rates_over_1e5_positions():
    tok = _tokenizer()
    g = torch.Generator().manual_seed(0)
    B, T = 1000, 100  # 1e5 positions; [CLS] first, [SEP] at 50 and last, padding in every second row
    ids = torch.randint(5, tok.vocab_size, (B, T), generator=g)
    ids[:, 0], ids[:, 50], ids[:, -1] = tok.cls_token_id, tok.sep_token_id, tok.sep_token_id
    ids[::2, 80:] = tok.pad_token_id
    inputs, labels = mask_tokens(ids, tok, generator=torch.Generator().manual_seed(1))
    special = torch.isin(ids, torch.tensor(sorted(tok.special_ids)))
    selected = labels != -100
    assert not (selected & special).any()  # special tokens are never selected
    assert (inputs[special] == ids[special]).all()
    assert (labels[selected] == ids[selected]).all()
    n = int((~special).sum())
    rate = selected.sum().item() / n
    assert abs(rate - 0.15) < 0.005  # binomial sd ≈ 0.0012 over ~9e4 positions
    k = int(selected.sum())
    to_mask = (inputs[selected] == tok.mask_token_id).float().mean().item()
    unchanged = (inputs[selected] == ids[selected]).float().mean().item()
    randomised = 1 - to_mask - unchanged
    assert abs(to_mask - 0.8) < 0.015 and abs(unchanged - 0.1) < 0.012 and abs(randomised - 0.1) < 0.012, k
    assert not torch.isin(inputs[selected & (inputs != ids)],
                          torch.tensor(sorted(tok.special_ids - {tok.mask_token_id}))).any()
    assert (inputs[~selected] == ids[~selected]).all()


def test_mask_tokens_whole_word_and_seed():
    tok = _tokenizer()
    ids = torch.randint(5, 180, (200, 39), generator=torch.Generator().manual_seed(0))
    ids[:, 1::3] = torch.randint(180, 200, (200, 13))  # a continuation piece after every word start
    a = mask_tokens(ids, tok, generator=torch.Generator().manual_seed(5), whole_word=True)
    b = mask_tokens(ids, tok, generator=torch.Generator().manual_seed(5), whole_word=True)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    selected = a[1] != -100
    starts = torch.arange(0, 39, 3)
    assert torch.equal(selected[:, starts], selected[:, starts + 1])  # a word's pieces go together
    assert abs(selected.float().mean().item() - 0.15) < 0.02
    with pytest.raises(ValueError, match="mlm_probability"):
        mask_tokens(ids, tok, mlm_probability=1.5)


# ------------------------------------------------------------------------------- NSP pairs

def test_next_sentence_batch_half_and_half():
    from course_lib.data import toyworld_corpus
    corpus = toyworld_corpus(num_documents=200, seed=0)
    sentences = [" ".join(s.tokens) for s in corpus.sentences()]
    tok = WordPieceTokenizer.train(sentences, vocab_size=400)
    batch = next_sentence_batch(corpus, tok, max_length=24, seed=0)
    labels = batch["next_sentence_label"]
    assert set(labels.tolist()) == {0, 1} and abs(labels.float().mean().item() - 0.5) < 0.01
    assert batch["input_ids"].shape[1] <= 24
    for ids, types, mask in zip(batch["input_ids"], batch["token_type_ids"], batch["attention_mask"], strict=True):
        n = int(mask.sum())
        seps = (ids[:n] == tok.sep_token_id).nonzero().flatten().tolist()
        assert ids[0] == tok.cls_token_id and len(seps) == 2 and seps[1] == n - 1
        assert (types[:seps[0] + 1] == 0).all() and (types[seps[0] + 1:n] == 1).all()
        assert not torch.equal(ids[1:seps[0]], ids[seps[0] + 1:seps[1]])  # never a sentence with itself


def test_pretraining_batches_and_accuracy():
    from course_lib.bert import pretraining_accuracy, pretraining_batches
    from course_lib.data import toyworld_corpus
    corpus = toyworld_corpus(num_documents=60, seed=0)
    tok = WordPieceTokenizer.train([" ".join(s.tokens) for s in corpus.sentences()], vocab_size=300)
    epochs = pretraining_batches(corpus, tok, batch_size=16, max_length=32, seed=0)
    first, second = list(epochs()), list(epochs())
    assert len(first) >= 2 and not torch.equal(first[0]["input_ids"], second[0]["input_ids"])  # fresh each epoch
    batch = first[0]
    assert set(batch) == {"input_ids", "token_type_ids", "attention_mask", "labels", "next_sentence_label"}
    assert batch["labels"].shape == batch["input_ids"].shape and (batch["labels"] != -100).any()
    model = BertForPreTraining(BertConfig.tiny(tok.vocab_size)).eval()
    with torch.no_grad():
        metrics = pretraining_accuracy(model, first)
    assert 0 <= metrics["mlm_accuracy"] <= 1 and 0 <= metrics["nsp_accuracy"] <= 1 and metrics["val_loss"] > 0


def test_checkers_accept_the_solutions_and_reject_wrong_answers(capsys):
    from course_lib.checks import bert as checks
    assert checks.check_mask_tokens(lambda ids, tok, g: mask_tokens(ids, tok, generator=g))
    assert not checks.check_mask_tokens(lambda ids, tok, g: (ids, torch.full_like(ids, -100)))
    assert checks.check_parameter_count(lambda config: config.num_parameters())
    assert not checks.check_parameter_count(lambda config: 12 * config.num_hidden_layers * config.hidden_size ** 2)

    assert checks.check_nsp_ceiling(lambda K: 1 - 0.5 / K)
    assert not checks.check_nsp_ceiling(lambda K: 1 - 1 / K)
    assert not checks.check_nsp_ceiling(lambda K: "0.95")

    def todo(*args):
        raise NotImplementedError
    assert not checks.check_mask_tokens(todo)
    assert "not answered yet" in capsys.readouterr().out


# ------------------------------------------------------------------------- pre-training data and step

def _toy_setup(num_documents=60, vocab_size=300):
    from course_lib.data import toyworld_corpus
    corpus = toyworld_corpus(num_documents=num_documents, seed=0)
    return corpus, WordPieceTokenizer.train([" ".join(s.tokens) for s in corpus.sentences()], vocab_size=vocab_size)


def test_pretraining_step_equals_the_model_loss():
    from course_lib.bert import pretraining_batches, pretraining_step
    corpus, tok = _toy_setup()
    batch = next(iter(pretraining_batches(corpus, tok, batch_size=8, max_length=32, seed=0)()))
    torch.manual_seed(0)
    model = BertForPreTraining(BertConfig.tiny(tok.vocab_size)).eval()
    with torch.no_grad():
        assert_close(pretraining_step(model, batch)[0], model(**batch)[1])


def test_pretraining_batches_bucket_by_length_and_cover_the_pairs():
    from course_lib.bert import pretraining_batches
    corpus, tok = _toy_setup()
    pairs = next_sentence_batch(corpus, tok, max_length=32, seed=0)
    for bucket, spread in ((1, None), (8, 3)):
        batches = list(pretraining_batches(corpus, tok, batch_size=8, max_length=32, seed=0, bucket=bucket)())
        assert len(batches) == len(pairs["input_ids"]) // 8  # each pair at most once, full batches only
        if spread is not None:  # sorted within buckets: little padding
            widths = [int(b["attention_mask"].sum(1).max() - b["attention_mask"].sum(1).min()) for b in batches]
            assert sum(widths) / len(widths) <= spread
        for b in batches:
            assert (b["attention_mask"][:, -1] == 1).any()  # padding shared by the whole batch is trimmed


def test_cloze_baselines_hand_worked():
    from types import SimpleNamespace

    from course_lib.bert import cloze_baselines
    tok = WordPieceTokenizer(list(BERT_SPECIAL_TOKENS) + ["a", "b", "c", "d", "x", "y"])
    texts = ["a b c"] * 3 + ["d b d"] * 2 + ["x y c"] * 4 + ["x a d"]
    corpus = SimpleNamespace(sentences=lambda: [SimpleNamespace(tokens=t.split()) for t in texts])
    ids = {t: i for i, t in enumerate(tok.ids_to_tokens)}
    # [CLS] d [MASK] d [SEP] x [MASK] d [SEP] with gold b and a; the most frequent token is c
    inputs = torch.tensor([[ids["[CLS]"], ids["d"], ids["[MASK]"], ids["d"], ids["[SEP]"], ids["x"], ids["[MASK]"],
                            ids["d"], ids["[SEP]"]]])
    labels = torch.full_like(inputs, -100)
    labels[0, 2], labels[0, 6] = ids["b"], ids["a"]
    got = cloze_baselines(corpus, tok, [{"input_ids": inputs, "labels": labels}])
    # after x the left guess is y (4 of 5), but only "a" is ever followed by d: the right side decides
    assert got == {"unigram": 0.0, "left_bigram": 0.5, "bigram": 1.0}


def test_toy_wordpiece_is_trained_once_per_setting():
    small = toy_wordpiece(300, num_documents=100, seed=0)
    assert toy_wordpiece(300, num_documents=100, seed=0) is small  # the ablations of notebook 12 share it
    assert toy_wordpiece(300, num_documents=100, seed=1) is not small
    assert small.tokenize("the bank") and small.vocab_size <= 300
