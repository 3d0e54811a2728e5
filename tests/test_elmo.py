"""Unit tests for course_lib.elmo and course_lib.elmo_heads (tiny configs, CPU, seeded)."""

import pytest
import torch

from course_lib.core import load_checkpoint, probe_predictions, save_checkpoint, train_probe
from course_lib.elmo import (
    BiLM,
    BiLMConfig,
    CharEncoder,
    Elmo,
    ScalarMix,
    SentenceClassifier,
    SentencePairClassifier,
    TokenTagger,
    word_characters,
)
from course_lib.text import Vocab

WORDS = "the bank river money tom sat by a loan took fish".split()


@pytest.fixture
def vocab():
    return Vocab(WORDS)


def make_bilm(vocab, seed=0, **changes):
    torch.manual_seed(seed)
    return BiLM(BiLMConfig.tiny(len(vocab), **changes), vocab).eval()


@pytest.mark.parametrize("char", [False, True])
def test_layers_shapes_and_layer0_duplicated(vocab, char):
    bilm = make_bilm(vocab, char_encoder=char)
    for B, T in [(1, 1), (3, 5)]:
        ids = torch.randint(7, len(vocab), (B, T))
        layers = bilm.layers(ids)
        assert len(layers) == bilm.config.num_layers + 1
        assert all(h.shape == (B, T, 2 * bilm.config.hidden_size) for h in layers)
        D = bilm.config.hidden_size
        torch.testing.assert_close(layers[0][..., :D], layers[0][..., D:])


def test_directions_independent_by_perturbation(vocab):
    bilm = make_bilm(vocab)
    D, T, k = bilm.config.hidden_size, 7, 3
    ids = torch.randint(7, len(vocab), (1, T))
    before = bilm.layers(ids)
    future = ids.clone()
    future[0, k + 1:] = torch.randint(7, len(vocab), (T - k - 1,))
    future[0, k + 1] = 7 if ids[0, k + 1] != 7 else 8  # surely changed
    past = ids.clone()
    past[0, k - 1] = 7 if ids[0, k - 1] != 7 else 8
    after_future, after_past = bilm.layers(future), bilm.layers(past)
    for j in range(1, len(before)):
        # forward half at positions <= k never sees a change after k
        torch.testing.assert_close(after_future[j][0, : k + 1, :D], before[j][0, : k + 1, :D])
        assert not torch.allclose(after_future[j][0, k, D:], before[j][0, k, D:])
        # backward half at positions >= k never sees a change before k
        torch.testing.assert_close(after_past[j][0, k:, D:], before[j][0, k:, D:])
        assert not torch.allclose(after_past[j][0, k, :D], before[j][0, k, :D])


def test_forward_and_backward_stacks_have_independent_parameters_shared_token_layer(vocab):
    bilm = make_bilm(vocab)
    f = {id(p) for p in bilm.forward_layers.parameters()}
    b = {id(p) for p in bilm.backward_layers.parameters()}
    assert not f & b
    assert bilm.softmax.weight is bilm.embedding.weight  # tied by default; one softmax for both directions


def test_padding_never_changes_real_tokens(vocab):
    bilm = make_bilm(vocab)
    short = torch.tensor([[7, 8, 9]])
    padded = torch.tensor([[7, 8, 9, 0, 0], [10, 11, 12, 13, 14]])
    alone, batched = bilm.layers(short), bilm.layers(padded)
    for a, b in zip(alone, batched, strict=True):
        torch.testing.assert_close(b[0, :3], a[0], atol=1e-6, rtol=1e-5)
        assert (b[0, 3:] == 0).all()


def test_empty_sentence_and_unknown_words(vocab):
    bilm = make_bilm(vocab)
    with pytest.raises(ValueError, match="empty"):
        bilm.encode([["the"], []])
    with pytest.raises(ValueError, match="empty"):
        bilm.layers(torch.tensor([[7, 8], [0, 0]]))
    with pytest.raises(ValueError, match="PAD"):
        bilm.layers(torch.tensor([[7, 0, 8]]))
    ids = bilm.encode([["zzz", "qqq"]])
    assert ids.tolist() == [[vocab.unk_id, vocab.unk_id]]
    assert all(torch.isfinite(h).all() for h in bilm.layers(ids))


def test_scalar_mix_equals_formula_by_hand():
    torch.manual_seed(0)
    mix = ScalarMix(3)
    with torch.no_grad():
        mix.scalar_parameters.copy_(torch.tensor([0.5, -1.0, 2.0]))
        mix.gamma.fill_(1.7)
    layers = [torch.randn(2, 4, 6) for _ in range(3)]
    s = torch.exp(torch.tensor([0.5, -1.0, 2.0]))
    s = s / s.sum()
    expected = 1.7 * (s[0] * layers[0] + s[1] * layers[1] + s[2] * layers[2])
    torch.testing.assert_close(mix(layers), expected)
    torch.testing.assert_close(mix.weights().sum(), torch.tensor(1.0))
    torch.testing.assert_close(mix.weights(), s)


def test_scalar_mix_layer_norm_ignores_padding():
    torch.manual_seed(0)
    mix = ScalarMix(2, do_layer_norm=True)
    layers = [torch.randn(1, 3, 4) for _ in range(2)]
    mask = torch.tensor([[True, True, False]])
    out = mix(layers, mask)
    changed = [h.clone() for h in layers]
    for h in changed:
        h[0, 2] = 1000.0
    torch.testing.assert_close(mix(changed, mask)[0, :2], out[0, :2])
    with pytest.raises(ValueError):
        mix(layers[:1])


def test_frozen_bilm_only_mix_and_head_get_gradients(vocab):
    bilm = make_bilm(vocab)
    elmo = Elmo(bilm, num_output_representations=2)
    tagger = TokenTagger(elmo, num_labels=3, task=1, word_embedding_size=4)
    ids = torch.tensor([[7, 8, 9], [10, 11, 0]])
    _, loss = tagger(ids, labels=torch.tensor([[0, 1, 2], [2, 1, 0]]))
    loss.backward()
    assert all(p.grad is None for p in bilm.parameters())
    assert tagger.elmo.scalar_mixes[1].scalar_parameters.grad is not None
    assert tagger.classifier.weight.grad is not None and tagger.word_embedding.weight.grad is not None
    assert tagger.elmo.scalar_mixes[0].scalar_parameters.grad is None  # another task's mix
    tagger.train()
    assert not bilm.training


def test_heads_shapes(vocab):
    elmo = Elmo(make_bilm(vocab))
    ids = torch.tensor([[7, 8, 9], [10, 11, 0]])
    logits, loss = TokenTagger(elmo, 2)(ids, labels=torch.tensor([0, 1]), positions=torch.tensor([1, 0]))
    assert logits.shape == (2, 2) and loss.ndim == 0
    logits, _ = SentenceClassifier(elmo, 3)(ids)
    assert logits.shape == (2, 3)
    logits, loss = SentencePairClassifier(elmo, 2)(ids, ids[:, :2], labels=torch.tensor([0, 1]))
    assert logits.shape == (2, 2) and torch.isfinite(loss)


def test_char_encoder_shapes_and_gradcheck():
    torch.manual_seed(0)
    enc = CharEncoder(5, char_embedding_size=3, filters=((1, 2), (2, 3)), num_highway=1).double()
    chars = word_characters(["ab", "bank", "x"], max_chars=6).view(1, 3, 6)
    assert chars[0, 0].tolist() == [257, ord("a") + 1, ord("b") + 1, 258, 0, 0]
    assert enc(chars).shape == (1, 3, 5)
    # gradcheck from the character vectors onward (embedding lookups have no gradient to check)
    c = torch.randn(2, 3, 4, dtype=torch.double, requires_grad=True)  # (N, C, W)

    def from_char_vectors(c):
        x = torch.cat([torch.tanh(conv(c)).max(dim=-1).values for conv in enc.convs], dim=-1)
        for h in enc.highways:
            x = h(x)
        return enc.projection(x)

    assert torch.autograd.gradcheck(from_char_vectors, (c,))


def test_bilm_overfits_one_batch(vocab):
    torch.manual_seed(0)
    bilm = BiLM(BiLMConfig.tiny(len(vocab)), vocab)
    ids = bilm.encode([["tom", "sat", "by", "the", "river"], ["the", "bank", "took", "money"]])
    opt = torch.optim.Adam(bilm.parameters(), lr=1e-2)
    for _ in range(150):
        _, loss = bilm(ids)
        opt.zero_grad()
        loss.backward()
        opt.step()
    # the floor is 2 * log(2) / 11 = 0.13: each direction's first word is a coin flip between the sentences
    assert loss.item() < 0.35  # forward + backward NLL, nats per token (it starts near 2 * log V = 5.8)
    f, b = bilm.perplexities([["tom", "sat", "by", "the", "river"], ["the", "bank", "took", "money"]])
    assert f < 1.25 and b < 1.25


def test_loss_counts_each_direction_n_plus_one_targets(vocab):
    bilm = make_bilm(vocab)
    ids = bilm.encode([["the", "bank"], ["tom"]])
    (fwd, bwd), loss = bilm(ids)
    assert fwd.shape == bwd.shape == (2, 3, len(vocab))
    wrapped, _ = bilm.wrap(ids)
    assert wrapped.tolist() == [[5, 7, 8, 6], [5, 11, 6, 0]]  # <bos> the bank <eos> / <bos> tom <eos> [PAD]
    f, b = bilm.direction_losses(fwd, bwd, wrapped)
    torch.testing.assert_close(loss, f + b)
    # uniform softmax -> each direction's NLL is log V
    with torch.no_grad():
        bilm.softmax.weight.zero_()
        bilm.softmax.bias.zero_()
    (fwd, bwd), loss = bilm(ids)
    torch.testing.assert_close(loss, 2 * torch.log(torch.tensor(float(len(vocab)))))


def test_save_load_round_trip(vocab, tmp_path):
    bilm = make_bilm(vocab, char_encoder=True)
    ids = bilm.encode([["the", "bank", "river"]])
    save_checkpoint(bilm, tmp_path / "bilm.pt")
    other = make_bilm(vocab, seed=1, char_encoder=True)
    load_checkpoint(other, tmp_path / "bilm.pt")
    for a, b in zip(bilm.layers(ids), other.layers(ids), strict=True):
        torch.testing.assert_close(a, b)


def test_linear_probe_learns_separable_features():
    torch.manual_seed(0)
    x = torch.randn(200, 5)
    y = (x[:, 0] > 0).long()
    assert train_probe(x[:150], y[:150], x[150:], y[150:]) > 0.9


def test_probe_accuracy_by_group_matches_the_predictions():
    from course_lib.core import probe_accuracy_by

    g = torch.Generator().manual_seed(1)
    x = torch.randn(300, 6, generator=g)
    y = (x[:, 0] > 0).long()
    groups = ["near" if i % 3 else "far" for i in range(100)]
    x_test, y_test = x[200:].clone(), y[200:]
    x_test[[i for i, h in enumerate(groups) if h == "far"], 0] = 0.0  # the far rows lose their signal
    result = probe_accuracy_by(x[:200], y[:200], x_test, y_test, groups, seed=2)
    hits = (probe_predictions(x[:200], y[:200], x_test, seed=2, num_classes=2) == y_test).float()
    assert list(result) == ["far", "near", "all"]
    assert result["all"] == pytest.approx(hits.mean().item())
    assert result["near"] == pytest.approx(hits[[i for i, h in enumerate(groups) if h == "near"]].mean().item())
    assert result["near"] > 0.9 > result["far"]
    with pytest.raises(ValueError, match="one group per row"):
        probe_accuracy_by(x[:200], y[:200], x_test, y_test, groups[:-1])


def test_probe_predictions_read_on_subsets_match_the_accuracy():
    torch.manual_seed(0)
    x = torch.randn(300, 6)
    y = (x[:, 0] > 0).long() + 2 * (x[:, 1] > 0).long()  # four classes
    predicted = probe_predictions(x[:200], y[:200], x[200:], seed=3)
    assert predicted.shape == (100,) and predicted.dtype == torch.long
    hits = (predicted == y[200:]).float()
    assert hits.mean().item() == pytest.approx(train_probe(x[:200], y[:200], x[200:], y[200:], seed=3))
    assert hits.mean().item() > 0.8


def test_config_validation():
    with pytest.raises(ValueError):
        BiLMConfig(dropout=1.0)
    with pytest.raises(ValueError):
        BiLM(BiLMConfig.tiny(5), Vocab(WORDS))


def test_checkers_accept_solutions_and_reject_mistakes(capsys):
    from course_lib.checks import elmo as checks

    def shift(ids):
        lengths = (ids != 0).sum(1)
        rev = BiLM.reverse(ids[..., None], lengths)[..., 0]
        return rev[:, :-1].masked_fill(rev[:, :-1] == 5, 0), rev[:, 1:]  # <bos> is never an input

    def todo(*args):
        raise NotImplementedError

    assert checks.check_backward_shift(shift)
    assert checks.check_reverse(BiLM.reverse)
    assert not checks.check_reverse(lambda x, lengths: x.flip(1))
    assert not checks.check_backward_shift(todo)
    assert "not answered yet" in capsys.readouterr().out


# ----------------------------------------------------------------------------- course_lib.elmo_probes


def test_direction_features_pick_the_halves_of_the_lstm_layers():
    from course_lib.elmo import direction_features

    layers = [torch.arange(8.0).repeat(2, 1) + 10 * j for j in range(3)]  # (2, 2D) with D = 4
    assert direction_features(layers, "forward")[0].tolist() == [10, 11, 12, 13, 20, 21, 22, 23]
    assert direction_features(layers, "backward")[0].tolist() == [14, 15, 16, 17, 24, 25, 26, 27]
    assert direction_features(layers, "both").shape == (2, 16)
    with pytest.raises(ValueError, match="direction"):
        direction_features(layers, "sideways")


def test_within_across_cosine_by_hand_and_centred():
    from course_lib.elmo import within_across_cosine

    x = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    assert within_across_cosine(x, [0, 0, 1, 1]) == pytest.approx((1.0, 0.0))
    shared = x + torch.tensor([100.0, 100.0])  # a big common component hides the senses...
    within, across = within_across_cosine(shared, [0, 0, 1, 1])
    assert within - across < 1e-3
    assert within_across_cosine(shared, [0, 0, 1, 1], centered=True) == pytest.approx((1.0, -1.0))  # ...centring shows them
    with pytest.raises(ValueError):
        within_across_cosine(x, [0, 0, 0, 0])


def test_learned_mix_sums_to_one_and_finds_the_informative_layer():
    from course_lib.elmo import learn_scalar_mix, mixed_probe_accuracy

    g = torch.Generator().manual_seed(0)
    y = torch.randint(2, (400,), generator=g)
    layers = [torch.randn(400, 5, generator=g) for _ in range(3)]
    layers[2][:, 0] += 2 * (2 * y - 1)
    result = learn_scalar_mix([h[:300] for h in layers], y[:300], [h[300:] for h in layers], y[300:], steps=300)
    assert sum(result.weights) == pytest.approx(1.0)
    assert max(range(3), key=lambda j: result.weights[j]) == 2 and result.accuracy > 0.9
    good = mixed_probe_accuracy([h[:300] for h in layers], y[:300], [h[300:] for h in layers], y[300:], [0, 0, 1])
    bad = mixed_probe_accuracy([h[:300] for h in layers], y[:300], [h[300:] for h in layers], y[300:], [1, 0, 0])
    assert good > 0.9 > 0.7 > bad
    with pytest.raises(ValueError, match="non-negative"):
        mixed_probe_accuracy(layers, y, layers, y, [0, 0, 0])


def test_majority_accuracy_and_scratch_tagger_padding(vocab):
    from course_lib.core import majority_accuracy
    from course_lib.elmo import ScratchTagger

    y = torch.tensor([0, 0, 1, 1, 1])
    assert majority_accuracy(["a", "a", "a", "b", "b"], y, ["a", "b", "c"], torch.tensor([0, 1, 1])) == pytest.approx(1.0)
    torch.manual_seed(0)
    tagger = ScratchTagger(len(vocab), 3, embedding_size=4, hidden_size=5).eval()
    alone = tagger(torch.tensor([[7, 8, 9]]))
    batched = tagger(torch.tensor([[7, 8, 9, 0, 0], [10, 11, 12, 13, 14]]))
    torch.testing.assert_close(batched[0, :3], alone[0], atol=1e-6, rtol=1e-5)  # padding never reaches a real word
    assert tagger(torch.tensor([[7, 8, 9]]), positions=torch.tensor([1])).shape == (1, 3)


def test_elmo_padding_never_changes_real_tokens_in_the_mix(vocab):
    elmo = Elmo(make_bilm(vocab), num_output_representations=1, do_layer_norm=False)
    (alone,), _ = elmo(torch.tensor([[7, 8, 9]]))
    (batched,), mask = elmo(torch.tensor([[7, 8, 9, 0], [10, 11, 12, 13]]))
    torch.testing.assert_close(batched[0, :3], alone[0], atol=1e-6, rtol=1e-5)
    assert mask.tolist() == [[True, True, True, False], [True] * 4]


def test_new_checkers_accept_solutions_and_reject_mistakes(capsys):
    from course_lib.checks import elmo as checks
    from course_lib.elmo import direction_features, within_across_cosine

    assert checks.check_direction_half(direction_features)
    assert not checks.check_direction_half(lambda layers, d: torch.cat([h[:, :4] for h in layers], -1))
    assert "leave out layer 0" in capsys.readouterr().out
    assert checks.check_within_across(lambda x, labels: within_across_cosine(x, labels.tolist()))
    assert not checks.check_within_across(lambda x, labels: (1.0, 0.0))
