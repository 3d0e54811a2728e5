"""Tests of course_lib.lm and course_lib.lstm: the hand-written cell against nn.LSTM, perplexity and the
n-gram model's probabilities, the LSTM LM's training (one batch, TBPTT), checkpoints, sampling, checkers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn
from torch.testing import assert_close

from course_lib.checks import language_models as checks
from course_lib.core import TrainConfig, fit, load_checkpoint, measure_ms, save_checkpoint, step_times
from course_lib.lm import (
    LSTMLM,
    LSTMCell,
    LSTMLMConfig,
    LSTMLMSettings,
    NGramLM,
    UniformLM,
    cross_entropy,
    native_lstm,
    perplexity,
    pretrained_lstm_lm,
    sentence_batches,
    sentence_ids,
    stream_batches,
    tbptt_step,
    unroll,
)
from course_lib.text import Vocab

SENTENCES = [["the", "dog", "barks"], ["the", "dogs", "bark"], ["a", "cat", "sleeps", "here"], ["the", "cat"]]
VOCAB = Vocab.build(SENTENCES)


def tiny_lm(**changes) -> LSTMLM:
    config = LSTMLMConfig.tiny(vocab_size=len(VOCAB))
    for k, v in changes.items():
        setattr(config, k, v)
    return LSTMLM(config, VOCAB)


# ---------------------------------------------------------------------------- the LSTM cell


@pytest.mark.parametrize("B,T,C,H,L", [(1, 1, 3, 2, 1), (3, 6, 5, 7, 2), (2, 4, 8, 8, 3)])
def test_hand_written_cell_equals_nn_lstm(B, T, C, H, L):
    lstm = nn.LSTM(C, H, L, batch_first=True).double()
    cells = [LSTMCell(C if k == 0 else H, H).double().load_from(lstm, layer=k) for k in range(L)]
    x = torch.randn(B, T, C, dtype=torch.float64, requires_grad=True)
    state = (torch.randn(L, B, H, dtype=torch.float64), torch.randn(L, B, H, dtype=torch.float64))
    want, (want_h, want_c) = lstm(x, state)
    got, (got_h, got_c) = unroll(cells, x, state)
    assert_close(got, want)
    assert_close(got_h, want_h)
    assert_close(got_c, want_c)
    # and the gradients back through time agree too
    want_grads = torch.autograd.grad(want.square().sum(), (x, lstm.weight_hh_l0))
    got_grads = torch.autograd.grad(got.square().sum(), (x, cells[0].weight_hh))
    assert_close(got_grads, want_grads)


def test_cell_starts_from_zeros_and_has_torch_parameter_names():
    cell, x = LSTMCell(4, 3), torch.randn(2, 4)
    reference = nn.LSTMCell(4, 3)
    reference.load_state_dict(cell.state_dict())  # same names, same shapes
    h, c = cell(x)
    want_h, want_c = reference(x)
    assert_close(h, want_h)
    assert_close(c, want_c)


def test_language_model_runs_the_same_lstm_as_the_hand_written_cells():
    model = tiny_lm().eval()
    ids = torch.randint(7, len(VOCAB), (2, 5))
    H = model.config.hidden_size
    cells = [LSTMCell(H, H).load_from(model.lstm, k) for k in range(2)]
    hidden, _ = unroll(cells, model.embedding(ids))
    assert_close(model(ids)[0], model.decoder(hidden))


def test_native_and_mkldnn_lstm_paths_agree_and_the_switch_is_restored():
    before = torch.backends.mkldnn.enabled
    ids = torch.randint(7, len(VOCAB), (3, 6))
    native = tiny_lm(mkldnn=False).eval()
    onednn = tiny_lm(mkldnn=True).eval()
    onednn.load_state_dict(native.state_dict())
    assert_close(native(ids)[0], onednn(ids)[0], atol=1e-5, rtol=1e-5)
    with native_lstm():
        assert not torch.backends.mkldnn.enabled
    assert torch.backends.mkldnn.enabled == before


def test_config_refuses_tying_unequal_sizes():
    with pytest.raises(ValueError, match="tie_embeddings"):
        LSTMLMConfig(embedding_size=64, hidden_size=128)
    untied = LSTMLM(LSTMLMConfig(vocab_size=30, embedding_size=8, hidden_size=12, tie_embeddings=False))
    assert untied.decoder.weight.shape == (30, 12) and untied.decoder.weight is not untied.embedding.weight
    tied = tiny_lm()
    assert tied.decoder.weight is tied.embedding.weight  # one matrix
    with pytest.raises(ValueError, match="vocab_size"):
        LSTMLM(LSTMLMConfig.tiny(vocab_size=5), VOCAB)


# ---------------------------------------------------------------------------- perplexity and n-grams


def test_perplexity_of_a_uniform_model_equals_the_vocabulary_size():
    assert math.isclose(perplexity(UniformLM(VOCAB), SENTENCES), len(VOCAB), rel_tol=1e-12)
    model = tiny_lm()
    with torch.no_grad():  # an LSTM whose logits are all 0 is uniform too
        model.decoder.weight.zero_()
        model.decoder.bias.zero_()
    assert math.isclose(perplexity(model, SENTENCES), len(VOCAB), rel_tol=1e-5)


def test_perplexity_counts_one_eos_per_sentence_like_the_toy_world_bound():
    from course_lib.data.toyworld import ToyWorld, ToyWorldConfig

    world = ToyWorld(ToyWorldConfig.tiny())
    sentences = list(world.corpus("test", seed=0, num_documents=5))

    class Oracle:  # puts each sentence's exact log-probability on its <eos>
        def token_logprobs(self, sents):
            return [np.r_[np.zeros(len(s)), world.logprob(s)] for s in sents]

    assert math.isclose(perplexity(Oracle(), sentences), world.perplexity_bound(sentences).perplexity, rel_tol=1e-12)


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_ngram_probabilities_sum_to_one_over_the_vocabulary(order):
    lm = NGramLM.fit(SENTENCES, VOCAB, order=order)
    bos = [VOCAB.bos_id] * (order - 1)
    for context in (bos, bos + VOCAB.encode(["the"]), VOCAB.encode(["the", "cat"]), VOCAB.encode(["cat", "the"]),
                    [VOCAB.unk_id] * 3, []):
        probs = lm.next_word_probs(context)
        assert probs.shape == (len(VOCAB),) and (probs > 0).all()
        assert math.isclose(probs.sum(), 1.0, rel_tol=1e-12)
        assert probs.tolist() == [lm.prob(context, w) for w in range(len(VOCAB))]  # the same numbers as prob


def test_kneser_ney_by_hand():
    vocab = Vocab(["a", "b", "c"])  # V = 10 with the 7 special tokens
    lm = NGramLM.fit([["a", "b"], ["a", "c"]], vocab, order=2, discount=0.5)
    # continuation counts: a after <bos>, b after a, c after a, <eos> after b and c -> 5 in all, 4 types
    p1_b = (1 - 0.5) / 5 + 0.5 * 4 / 5 * (1 / 10)
    assert math.isclose(lm.prob([], vocab["b"]), p1_b)
    assert math.isclose(lm.prob([vocab["a"]], vocab["b"]), (1 - 0.5) / 2 + 0.5 * 2 / 2 * p1_b)
    assert math.isclose(lm.prob([vocab["c"]], vocab["a"]), 0.5 * 1 / 1 * lm.prob([], vocab["a"]))


def test_ngram_chain_rule_and_more_context_helps_on_its_training_text():
    trigram, unigram = NGramLM.fit(SENTENCES, VOCAB, 3), NGramLM.fit(SENTENCES, VOCAB, 1)
    [logps] = trigram.token_logprobs([SENTENCES[0]])
    bos = VOCAB.bos_id
    ids = VOCAB.encode(SENTENCES[0])
    by_hand = [trigram.prob([bos, bos], ids[0]), trigram.prob([bos, ids[0]], ids[1]),
               trigram.prob(ids[:2], ids[2]), trigram.prob(ids[1:], VOCAB.eos_id)]
    assert_close(torch.tensor(logps), torch.tensor(np.log(by_hand)))
    assert perplexity(trigram, SENTENCES) < perplexity(unigram, SENTENCES) < len(VOCAB)
    assert math.isclose(cross_entropy(trigram, SENTENCES), math.log(perplexity(trigram, SENTENCES)))


def test_ngram_samples_are_words_and_repeatable():
    lm = NGramLM.fit(SENTENCES, VOCAB, 2)
    samples = lm.sample(5, seed=1)
    assert samples == lm.sample(5, seed=1) and len(samples) == 5
    assert all(w in VOCAB and VOCAB[w] not in VOCAB.special_ids for s in samples for w in s)


# ---------------------------------------------------------------------------- the LSTM LM: data, training, checkpoints


def test_sentence_batches_shift_targets_and_cover_every_sentence_once():
    epoch = sentence_batches(SENTENCES, VOCAB, batch_size=3, seed=0)
    batches = list(epoch())
    seen = []
    for b in batches:
        x, y = b["input_ids"], b["targets"]
        assert x.shape == y.shape and (x[:, 0] == VOCAB.bos_id).all()
        assert torch.equal(x[:, 1:][y[:, :-1] != 0], y[:, :-1][y[:, :-1] != 0])  # targets = inputs shifted
        seen += [VOCAB.decode(row[(row != 0) & (row != VOCAB.eos_id)].tolist()) for row in y]
    assert sorted(map(tuple, seen)) == sorted(map(tuple, SENTENCES))
    assert [b["input_ids"].tolist() for b in epoch()] != [b["input_ids"].tolist() for b in batches] or len(batches) < 2


def test_lstm_lm_overfits_one_batch():
    model = tiny_lm()
    batch = next(iter(sentence_batches(SENTENCES, VOCAB, batch_size=4)()))
    history = fit(model, [batch], TrainConfig(steps=300, lr=2e-2, progress=False))
    # The floor is not 0: after <bos> comes "the" 3 times in 4, after "<bos> the" one of 3 words;
    # every other next word is certain. 16 targets in all.
    floor = (3 * math.log(4 / 3) + math.log(4) + 3 * math.log(3)) / 16  # 0.347 nats
    assert history.train_loss[0] > 2.5 and history.train_loss[-1] < floor + 0.03
    assert perplexity(model, SENTENCES) < math.exp(floor + 0.03)


def test_tbptt_streams_continue_across_chunks_and_the_state_is_carried_detached():
    batches = stream_batches(SENTENCES * 3, VOCAB, batch_size=2, bptt=4)
    assert [b["reset"] for b in batches] == [True] + [False] * (len(batches) - 1)
    for a, b in zip(batches, batches[1:], strict=False):
        assert torch.equal(a["targets"][:, -1], b["input_ids"][:, 0])  # chunk k + 1 starts where k ended
    model = tiny_lm()
    loss, state = tbptt_step(model, batches[0], None)
    assert loss.requires_grad and all(not s.requires_grad for s in state) and state[0].shape == (2, 2, model.config.hidden_size)
    _, carried = tbptt_step(model, batches[1], state)
    _, fresh = tbptt_step(model, batches[1], None)
    _, reset = tbptt_step(model, {**batches[1], "reset": True}, state)
    assert not torch.allclose(carried[0], fresh[0]) and torch.equal(reset[0], fresh[0])


def test_tbptt_training_through_fit_lowers_the_loss():
    model = tiny_lm()
    batches = stream_batches(SENTENCES * 4, VOCAB, batch_size=2, bptt=5)
    history = fit(model, batches, TrainConfig(steps=120, lr=2e-2, progress=False), step=tbptt_step)
    assert np.mean(history.train_loss[-10:]) < 0.5 * np.mean(history.train_loss[:10])


def test_checkpoint_round_trips_exactly(tmp_path):
    model = tiny_lm()
    fit(model, [next(iter(sentence_batches(SENTENCES, VOCAB)()))], TrainConfig(steps=3, progress=False))
    path = save_checkpoint(model, tmp_path / "lm.pt")
    other = tiny_lm()
    load_checkpoint(other, path)
    for k, v in model.state_dict().items():
        assert torch.equal(v, other.state_dict()[k]), k
    ids = torch.randint(7, len(VOCAB), (2, 5))
    assert torch.equal(model.eval()(ids)[0], other.eval()(ids)[0])


def test_mismatched_or_corrupted_checkpoints_name_the_keys(tmp_path):
    path = save_checkpoint(tiny_lm(), tmp_path / "lm.pt")
    with pytest.raises(ValueError, match=r"missing keys: lstm\.bias_hh_l2, lstm\.bias_ih_l2, lstm\.weight_hh_l2"):
        load_checkpoint(tiny_lm(num_layers=3), path)
    with pytest.raises(ValueError, match=r"unexpected keys: lstm\.bias_hh_l1"):
        load_checkpoint(tiny_lm(num_layers=1), path)
    state = tiny_lm().state_dict()
    del state["decoder.bias"]
    torch.save({"state_dict": state}, tmp_path / "cut.pt")
    with pytest.raises(ValueError, match=r"missing keys: decoder\.bias"):
        load_checkpoint(tiny_lm(), tmp_path / "cut.pt")
    damaged = tmp_path / "damaged.pt"
    damaged.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ValueError, match="not a readable checkpoint"):
        load_checkpoint(tiny_lm(), damaged)


def test_samples_are_words_repeatable_and_follow_a_memorized_sentence():
    model = tiny_lm()
    batch = next(iter(sentence_batches([SENTENCES[2]], VOCAB)()))
    fit(model, [batch], TrainConfig(steps=100, lr=3e-2, progress=False))
    samples = model.sample(4, generator=torch.Generator().manual_seed(0))
    assert samples == model.sample(4, generator=torch.Generator().manual_seed(0))
    assert samples == [SENTENCES[2]] * 4
    untrained = tiny_lm().sample(20, max_length=6, generator=torch.Generator().manual_seed(0))
    assert all(len(s) <= 6 and all(VOCAB[w] not in VOCAB.special_ids for w in s) for s in untrained)


def test_token_logprobs_read_each_sentence_alone():
    model = tiny_lm().eval()
    together = model.token_logprobs(SENTENCES, batch_size=3)
    alone = [model.token_logprobs([s])[0] for s in SENTENCES]
    assert [len(a) for a in together] == [len(s) + 1 for s in SENTENCES]
    for a, b in zip(together, alone, strict=True):
        assert_close(torch.tensor(a), torch.tensor(b), rtol=1e-5, atol=1e-5)  # padding changes nothing
    assert sentence_ids([["the", "cat"]], VOCAB) == [[VOCAB.bos_id, VOCAB["the"], VOCAB["cat"], VOCAB.eos_id]]


def test_pretrained_lstm_lm_trains_once_then_loads(tmp_path, monkeypatch):
    from course_lib.lm import LMDataConfig

    monkeypatch.setenv("COURSE_LIB_CACHE", str(tmp_path))
    data = LMDataConfig(train_documents=3, validation_sentences=5, batch_size=4)
    config = LSTMLMConfig(embedding_size=16, hidden_size=16, num_layers=1)  # vocab_size set from the vocab
    settings = LSTMLMSettings(model=config, steps=4, data=data)
    first, history = pretrained_lstm_lm(settings, progress=False)
    assert len(history.train_loss) == 4 and not first.training
    assert len(list((tmp_path / "models").glob("lstm-lm-*.pt"))) == 1
    second, again = pretrained_lstm_lm(settings, progress=False)
    assert again.train_loss == history.train_loss
    for k, v in first.state_dict().items():
        assert torch.equal(v, second.state_dict()[k])


# ---------------------------------------------------------------------------- timing and checkers


def test_step_times_measure_every_length():
    times = step_times(nn.LSTM(8, 8, batch_first=True), [2, 4], batch_size=2, width=8, repeats=2)
    assert sorted(times) == [2, 4] and all(t > 0 for t in times.values())
    assert measure_ms(lambda: None, repeats=3) >= 0
    with pytest.raises(ValueError):
        measure_ms(lambda: None, repeats=0)
    with pytest.raises(ValueError, match="statistic"):
        measure_ms(lambda: None, statistic="mean")


def test_measure_ms_min_and_time_budget():
    import time as clock

    calls = []

    def sleepy() -> None:
        calls.append(1)
        clock.sleep(0.02 if len(calls) % 2 else 0.06)  # odd calls fast, even calls slow

    fastest = measure_ms(sleepy, repeats=4, warmup=0, statistic="min")
    assert 15 < fastest < 50 and len(calls) == 4
    calls.clear()
    measure_ms(sleepy, repeats=100, warmup=0, max_seconds=0.1)
    assert 2 <= len(calls) <= 5  # stopped once 0.1 s were spent, not after 100 calls


def test_step_times_runs_on_the_threads_asked_and_restores_them():
    seen = []

    class Probe(nn.Linear):
        def forward(self, x):
            seen.append(torch.get_num_threads())
            return super().forward(x)

    before = torch.get_num_threads()
    step_times(Probe(4, 4), [3], batch_size=2, width=4, repeats=2, threads=2, backward=False)
    assert set(seen) == {2} and torch.get_num_threads() == before
    with pytest.raises(ValueError, match="threads"):
        step_times(Probe(4, 4), [3], batch_size=2, width=4, threads=0)


def _stub(*args):
    raise NotImplementedError


CHECKERS = [
    (checks.check_add_k, lambda c, k: (c + k) / (c.sum(1, keepdim=True) + k * c.shape[1]), lambda c, k: (c + k) / c.sum()),
    (checks.check_lstm_parameters, lambda i, h, n: 4 * h * (i + h) + 8 * h + (n - 1) * (4 * h * 2 * h + 8 * h),
     lambda i, h, n: n * (4 * h * (i + h) + 8 * h)),
]


@pytest.mark.parametrize("checker,right,wrong", CHECKERS, ids=lambda x: getattr(x, "__name__", ""))
def test_checkers_accept_right_reject_wrong_and_never_raise(checker, right, wrong, capsys):
    assert checker(right) is True
    assert "✅" in capsys.readouterr().out
    assert checker(wrong) is False
    assert "❌" in capsys.readouterr().out
    assert checker(_stub) is False
    assert "not answered yet" in capsys.readouterr().out
    assert checker(lambda *a: 1 / 0) is False
    assert "ZeroDivisionError" in capsys.readouterr().out
