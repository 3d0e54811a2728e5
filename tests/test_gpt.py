"""Tests of course_lib.gpt: the causal mask (no peeking), padding, one-batch overfitting, sampling (length,
seed, greedy, eos), config validation, equivalence with Hugging Face GPT-2, and the cached toy-world GPT."""

from __future__ import annotations

import math

import pytest
import torch
from torch.testing import assert_close

from course_lib.core import TrainConfig, fit
from course_lib.gpt import GPT, GPTConfig, GPTSettings, pretrained_gpt
from course_lib.lm import LSTMLM, LSTMLMConfig, cross_entropy, generate, perplexity, sentence_batches
from course_lib.text import Vocab
from course_lib.transformer import TransformerEncoderLayer

pytestmark = pytest.mark.usefixtures("one_thread")

SENTENCES = [["the", "dog", "barks"], ["the", "dogs", "bark"], ["a", "cat", "sleeps", "here"], ["the", "cat"]]
VOCAB = Vocab.build(SENTENCES)


def tiny_gpt(**changes) -> GPT:
    config = GPTConfig.tiny(vocab_size=len(VOCAB))
    for k, v in changes.items():
        setattr(config, k, v)
    return GPT(config, VOCAB).eval()


def random_ids(B: int, T: int, V: int = len(VOCAB)) -> torch.Tensor:
    return torch.randint(1, V, (B, T))


# ------------------------------------------------------------------------------------- the model


@pytest.mark.parametrize("B,T,norm_first", [(1, 1, True), (2, 7, True), (3, 16, False)])
def test_shapes_tied_output_and_the_course_layers(B, T, norm_first):
    model = tiny_gpt(norm_first=norm_first)
    logits, loss = model(random_ids(B, T))
    assert logits.shape == (B, T, len(VOCAB)) and loss is None
    assert model.lm_head.weight is model.token_embeddings.weight  # one matrix in and out
    assert all(isinstance(layer, TransformerEncoderLayer) for layer in model.blocks.layers)
    assert isinstance(model.blocks.norm, torch.nn.LayerNorm) == norm_first  # pre-LN ends with a LayerNorm


@pytest.mark.parametrize("norm_first", [True, False])
def test_a_position_never_sees_a_later_token(norm_first):
    model = tiny_gpt(norm_first=norm_first)
    ids = random_ids(2, 12)
    logits, _ = model(ids)
    for k in (0, 5, 11):
        changed = ids.clone()
        changed[:, k] = ids[:, k] % (len(VOCAB) - 1) + 1  # another id in 1 .. V-1
        assert (changed[:, k] != ids[:, k]).all()
        after, _ = model(changed)
        assert torch.equal(after[:, :k], logits[:, :k])  # exactly: the masked weights are exactly 0
        assert not torch.allclose(after[:, k], logits[:, k])  # while position k itself does read it


@pytest.mark.parametrize("norm_first", [True, False])
def test_layer_states_end_where_the_model_does_and_features_read_one_word(norm_first):
    from course_lib.gpt import gpt_layer_features

    model = tiny_gpt(norm_first=norm_first).eval()
    ids = random_ids(2, 6)
    states = model.layer_states(ids)
    assert len(states) == model.config.num_layers + 1 and all(h.shape == (2, 6, 32) for h in states)
    top, _ = model.hidden_states(ids)
    assert_close(model.blocks.norm(states[-1]), top)  # pre-LN: the final LayerNorm; post-LN: none
    words = model.vocab.decode(ids[0].tolist())
    features = gpt_layer_features(model, [words, words[:3]], [2, 2])  # <bos> then the words
    with_bos = torch.cat([torch.tensor([[model.vocab.bos_id]]), ids[:1]], 1)
    assert_close(features[-1][0], model.layer_states(with_bos)[-1][0, 3])
    assert_close(features[-1][0], features[-1][1])  # what follows the word never changes its feature
    with pytest.raises(ValueError, match="outside sentence 1"):
        gpt_layer_features(model, [words, words[:2]], [1, 2])


def test_gradient_of_a_prediction_never_reaches_a_later_embedding():
    model = tiny_gpt()
    x = model.token_embeddings(random_ids(1, 6)).detach().requires_grad_(True)
    h, _ = model.blocks(x + model.position_embeddings.weight[:6], model.attention_mask_4d(6, None, x.device))
    (grad,) = torch.autograd.grad(h[0, 2] @ torch.randn(h.shape[-1]), x)  # (not .sum(): LayerNorm makes it 0)
    assert grad[0, 3:].abs().max() == 0 and grad[0, :3].abs().max() > 0


def test_padding_never_changes_the_real_tokens_logits():
    model = tiny_gpt()
    ids = random_ids(1, 5)
    alone, _ = model(ids)
    right = torch.cat([ids, torch.zeros(1, 3, dtype=torch.long)], 1)  # causal: right padding needs no mask
    assert_close(model(right)[0][:, :5], alone)
    left = torch.cat([torch.zeros(1, 3, dtype=torch.long), ids], 1)  # left padding needs the mask
    mask = torch.tensor([[0, 0, 0, 1, 1, 1, 1, 1]])
    assert_close(model(left, attention_mask=mask)[0][:, 3:], alone)
    assert_close(model(right, attention_mask=mask.flip(1))[0][:, :5], alone)
    with pytest.raises(ValueError, match="shape of input_ids"):
        model(ids, attention_mask=mask)


def test_sequences_longer_than_the_learned_positions_are_refused():
    model = tiny_gpt()
    with pytest.raises(ValueError, match="learned positions"):
        model(random_ids(1, model.config.max_position_embeddings + 1))


@pytest.mark.parametrize("changes,match", [
    ({"hidden_size": 30}, "divisible"),
    ({"num_layers": 0}, "num_layers"),
    ({"vocab_size": -1}, "vocab_size"),
    ({"max_position_embeddings": 2.5}, "max_position_embeddings"),
    ({"dropout": 1.0}, "dropout"),
    ({"activation": "tanh"}, "activation"),
    ({"initializer_range": 0.0}, "initializer_range"),
    ({"pad_token_id": 20}, "pad_token_id"),
])
def test_config_validation(changes, match):
    with pytest.raises(ValueError, match=match):
        GPTConfig(**{**vars(GPTConfig.tiny()), **changes})


def test_vocabulary_must_match_the_config():
    with pytest.raises(ValueError, match="vocab_size"):
        GPT(GPTConfig.tiny(vocab_size=len(VOCAB) + 1), VOCAB)


def test_equals_hugging_face_gpt2():
    transformers = pytest.importorskip("transformers")
    V, P, H, L, A = 30, 16, 32, 2, 4
    theirs = transformers.GPT2LMHeadModel(transformers.GPT2Config(
        vocab_size=V, n_positions=P, n_embd=H, n_layer=L, n_head=A, n_inner=4 * H, activation_function="gelu",
        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, layer_norm_epsilon=1e-5)).eval()
    ours = GPT(GPTConfig(vocab_size=V, max_position_embeddings=P, hidden_size=H, num_layers=L, num_heads=A,
                         intermediate_size=4 * H, norm_first=True)).eval()  # GPT-2 is pre-LN
    t = theirs.transformer.state_dict()
    state = {"token_embeddings.weight": t["wte.weight"], "position_embeddings.weight": t["wpe.weight"],
             "blocks.norm.weight": t["ln_f.weight"], "blocks.norm.bias": t["ln_f.bias"]}
    for i in range(L):
        ours_i, theirs_i = f"blocks.layers.{i}.", f"h.{i}."
        qkv_w, qkv_b = t[theirs_i + "attn.c_attn.weight"].T.chunk(3), t[theirs_i + "attn.c_attn.bias"].chunk(3)
        for j, name in enumerate(("query", "key", "value")):  # GPT-2's Conv1D stores W transposed, q k v stacked
            state[ours_i + f"self_attn.{name}.weight"], state[ours_i + f"self_attn.{name}.bias"] = qkv_w[j], qkv_b[j]
        for mine, theirs_name in (("self_attn.out", "attn.c_proj"), ("ffn.linear1", "mlp.c_fc"),
                                  ("ffn.linear2", "mlp.c_proj")):
            state[ours_i + mine + ".weight"] = t[theirs_i + theirs_name + ".weight"].T
            state[ours_i + mine + ".bias"] = t[theirs_i + theirs_name + ".bias"]
        for mine, theirs_name in (("norm1", "ln_1"), ("norm2", "ln_2")):
            state[ours_i + mine + ".weight"] = t[theirs_i + theirs_name + ".weight"]
            state[ours_i + mine + ".bias"] = t[theirs_i + theirs_name + ".bias"]
    state["lm_head.weight"] = state["token_embeddings.weight"]
    ours.load_state_dict(state)
    ids = torch.randint(0, V, (2, 9))
    assert_close(ours(ids)[0], theirs(ids).logits, rtol=1e-4, atol=1e-4)


# ------------------------------------------------------------------------------- training and scoring


def test_overfits_one_batch():
    model = tiny_gpt().train()
    batch = next(iter(sentence_batches(SENTENCES, VOCAB, batch_size=4)()))
    history = fit(model, [batch], TrainConfig(steps=150, lr=1e-2, progress=False))
    # As for the LSTM LM (tests/test_lm.py), the floor is not 0: "<bos> -> the" is 3 in 4, "the -> ?" 1 in 3.
    floor = (3 * math.log(4 / 3) + math.log(4) + 3 * math.log(3)) / 16  # 0.347 nats
    assert history.train_loss[0] > 2.5 and history.train_loss[-1] < floor + 0.03
    assert perplexity(model, SENTENCES) < math.exp(floor + 0.03)


def test_one_perplexity_function_scores_the_gpt_and_the_lstm_alike():
    gpt, lstm = tiny_gpt(), LSTMLM(LSTMLMConfig.tiny(vocab_size=len(VOCAB)), VOCAB).eval()
    for model in (gpt, lstm):
        logps = model.token_logprobs(SENTENCES)
        assert [len(lp) for lp in logps] == [len(s) + 1 for s in SENTENCES]  # words + <eos>
        assert math.isclose(perplexity(model, SENTENCES), math.exp(cross_entropy(model, SENTENCES)))
    ids = torch.tensor([[VOCAB.bos_id, VOCAB["the"], VOCAB["cat"]]])
    by_hand = gpt(ids)[0].log_softmax(-1)[0, [0, 1, 2], [VOCAB["the"], VOCAB["cat"], VOCAB.eos_id]]
    assert_close(torch.tensor(gpt.token_logprobs([["the", "cat"]])[0]), by_hand.double())
    together = gpt.token_logprobs(SENTENCES)  # padded in one batch
    alone = [gpt.token_logprobs([s])[0] for s in SENTENCES]
    for a, b in zip(together, alone, strict=True):
        assert_close(torch.tensor(a), torch.tensor(b), rtol=1e-5, atol=1e-5)


# -------------------------------------------------------------------------------------------- sampling


def test_greedy_is_deterministic_and_picks_the_argmax():
    model = tiny_gpt()
    prompt = [VOCAB.bos_id, VOCAB["the"]]
    out = generate(model, prompt, max_new_tokens=5, temperature=0)
    assert out.shape == (7,) and out[:2].tolist() == prompt
    assert torch.equal(out, generate(model, prompt, 5, temperature="greedy"))
    assert torch.equal(out, generate(model, prompt, 5, temperature=1.0, top_k=1, generator=3))
    for t in range(2, 7):  # each new token is the argmax given everything before it
        assert out[t] == model(out[None, :t])[0][0, -1].argmax()


def test_sampling_respects_the_seed_and_the_maximum_length():
    model = tiny_gpt()
    prompt = torch.tensor([[VOCAB.bos_id]] * 3)
    a = generate(model, prompt, 6, temperature=1.5, generator=7)
    b = generate(model, prompt, 6, temperature=1.5, generator=torch.Generator().manual_seed(7))
    c = generate(model, prompt, 6, temperature=1.5, generator=8)
    assert a.shape == (3, 7) and torch.equal(a, b) and not torch.equal(a, c)
    P = model.config.max_position_embeddings
    assert generate(model, prompt, 100, generator=0).shape == (3, P)  # never past the learned positions
    assert generate(model, [VOCAB.bos_id] * P, 5).shape == (P,)
    assert generate(model, prompt, 0).shape == (3, 1)


def test_top_k_and_suppressed_tokens_are_never_drawn():
    model = tiny_gpt()
    prompt = torch.tensor([[VOCAB.bos_id]] * 64)
    logits = model(prompt)[0][0, -1]
    top3 = set(logits.topk(3).indices.tolist())
    out = generate(model, prompt, 1, temperature=5.0, top_k=3, generator=0)
    assert set(out[:, 1].tolist()) <= top3
    banned = logits.argmax().item()
    out = generate(model, prompt, 1, temperature=0, suppress_ids=[banned])
    assert banned not in out[:, 1].tolist()


def test_generation_stops_at_eos_and_pads_finished_rows():
    model = tiny_gpt(norm_first=True)  # pre-LN: its final LayerNorm (blocks.norm) sets every output vector
    with torch.no_grad():  # make <eos> the favourite everywhere: every h is all ones after the final LayerNorm
        model.blocks.norm.weight.zero_()
        model.blocks.norm.bias.fill_(1.0)
        model.token_embeddings.weight[VOCAB.eos_id] = 1.0  # tied: <eos> scores H, every other word about 0
    out = generate(model, torch.tensor([[VOCAB.bos_id]] * 2), 10, temperature=0, eos_id=VOCAB.eos_id)
    assert out.tolist() == [[VOCAB.bos_id, VOCAB.eos_id]] * 2
    words = model.sample(3, max_length=5, generator=0)
    assert words == [[], [], []]


def test_sample_gives_words_and_is_repeatable():
    model = tiny_gpt()
    a, b = model.sample(4, max_length=6, generator=1), model.sample(4, max_length=6, generator=1)
    assert a == b and all(len(s) <= 6 for s in a)
    assert all(VOCAB[w] not in VOCAB.special_ids for s in a for w in s) and any(a)


@pytest.mark.parametrize("kwargs,match", [
    ({"prompt_ids": []}, "empty"),
    ({"prompt_ids": [1] * 17}, "positions"),
    ({"prompt_ids": [99]}, r"largest id in prompt_ids is 99, but the vocabulary size"),
    ({"prompt_ids": [[[1]]]}, "shape"),
    ({"temperature": -0.5}, "temperature"),
    ({"temperature": "hot"}, "temperature"),
    ({"temperature": math.nan}, "temperature"),
    ({"top_k": 0}, "top_k"),
    ({"max_new_tokens": -1}, "max_new_tokens"),
])
def test_bad_sampling_arguments_are_refused(kwargs, match):
    args = {"prompt_ids": [VOCAB.bos_id], "max_new_tokens": 3, **kwargs}
    with pytest.raises(ValueError, match=match):
        generate(tiny_gpt(), **args)


# ---------------------------------------------------------------------------------- the cached GPT


def test_pretrained_gpt_trains_once_deterministically_then_loads(tmp_path, monkeypatch):
    from course_lib.lm import LMDataConfig

    data = LMDataConfig(train_documents=3, validation_sentences=5, batch_size=4)
    config = GPTConfig(hidden_size=16, num_layers=1, num_heads=2, intermediate_size=32)  # vocab_size from the vocab
    settings = GPTSettings(model=config, steps=4, data=data)
    monkeypatch.setenv("COURSE_LIB_CACHE", str(tmp_path / "a"))
    first, history = pretrained_gpt(settings, progress=False)
    assert len(history.train_loss) == 4 and not first.training and first.vocab is not None
    [path] = (tmp_path / "a" / "models").glob("gpt-*.pt")
    saved = torch.load(path, map_location="cpu", weights_only=True)
    assert saved["state_dict"].keys() == first.state_dict().keys()

    monkeypatch.setattr(GPTSettings, "train", lambda *a, **k: pytest.fail("should load from the cache"))
    second, again = pretrained_gpt(settings, progress=False)
    assert again.train_loss == history.train_loss
    for k, v in first.state_dict().items():
        assert torch.equal(v, second.state_dict()[k])
    monkeypatch.undo()

    monkeypatch.setenv("COURSE_LIB_CACHE", str(tmp_path / "b"))  # an empty cache: trained again, the same
    third, _ = pretrained_gpt(settings, progress=False)
    for k, v in first.state_dict().items():
        assert torch.equal(v, third.state_dict()[k])
    other, _ = pretrained_gpt(GPTSettings(model=config, steps=5, data=data), progress=False)  # another file
    assert len(list((tmp_path / "b" / "models").glob("gpt-*.pt"))) == 2
    assert not torch.equal(other.token_embeddings.weight, first.token_embeddings.weight)
