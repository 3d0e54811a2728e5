"""course_lib.transformer, transformer_models and compare: against torch, the order properties, causality,
padding, training and greedy decoding."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.testing import assert_close

from course_lib.attention import padding_mask
from course_lib.core import TrainConfig, fit
from course_lib.transformer import (
    BERT_LAYER_NAMES,
    FeedForward,
    LearnedPositionalEmbedding,
    Seq2SeqTransformer,
    SinusoidalPositionalEncoding,
    TransformerClassifier,
    TransformerConfig,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
    dependency_depth,
    joint_attention,
    layer_costs,
    matched_layers,
    multiply_adds,
    offset_matrix,
    parallel_times,
    path_lengths,
    positional_encoding,
    receptive_field,
    sinusoidal_positions,
    time_layers,
    timing_settings,
)

pytestmark = pytest.mark.usefixtures("one_thread")


# ------------------------------------------------------------------------- positional encodings


def test_sinusoidal_positions_follow_the_formula() -> None:
    pe = sinusoidal_positions(7, 6)
    assert pe.shape == (7, 6)
    for p in (0, 3, 6):
        for i in range(3):
            angle = torch.tensor(p / 10000 ** (2 * i / 6), dtype=torch.float64)
            assert_close(pe[p, 2 * i].double(), angle.sin(), atol=1e-6, rtol=0)
            assert_close(pe[p, 2 * i + 1].double(), angle.cos(), atol=1e-6, rtol=0)
    with pytest.raises(ValueError):
        sinusoidal_positions(4, 5)  # odd width


@pytest.mark.parametrize("d", [2, 16, 64])
@pytest.mark.parametrize("k", [1, 4, -3, 17])
def test_sinusoidal_relative_offset_is_one_linear_map(d: int, k: int) -> None:
    """PE(p + k) = M_k PE(p), with the same M_k at every position p."""
    pe = sinusoidal_positions(120, d)
    M = offset_matrix(k, d)
    p = torch.arange(20, 100)
    assert_close(pe[p] @ M.T, pe[p + k], atol=2e-5, rtol=0)
    assert_close(M @ M.T, torch.eye(d), atol=1e-5, rtol=0)  # a rotation: lengths are kept


def test_every_position_is_distinct() -> None:
    pe = sinusoidal_positions(512, 64)
    distances = torch.cdist(pe, pe) + torch.eye(512) * 100
    assert distances.min() > 0.1


def test_learned_positions_add_one_vector_per_position() -> None:
    emb = LearnedPositionalEmbedding(8, 4)
    x = torch.zeros(2, 5, 4)
    assert_close(emb(x), emb.weight[:5].expand(2, 5, 4))
    with pytest.raises(ValueError):
        emb(torch.zeros(1, 9, 4))
    assert_close(SinusoidalPositionalEncoding(4)(x)[1], sinusoidal_positions(5, 4))
    with pytest.raises(ValueError):
        positional_encoding("rotary", 4, 8)


# ------------------------------------------------------------------------------ order blindness


def test_without_positions_self_attention_is_permutation_equivariant() -> None:
    layer = TransformerEncoder(2, 16, 4, 32, dropout=0.0).eval()
    x = torch.randn(3, 9, 16)
    perm = torch.randperm(9)
    assert not torch.equal(perm, torch.arange(9))
    y, _ = layer(x)
    y_perm, _ = layer(x[:, perm])
    assert_close(y_perm, y[:, perm], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("kind", ["sinusoidal", "learned"])
def test_positions_break_permutation_equivariance(kind: str) -> None:
    layer = TransformerEncoder(2, 16, 4, 32, dropout=0.0).eval()
    positions = positional_encoding(kind, 16, 9)
    if kind == "learned":
        nn.init.normal_(positions.weight)
    x = torch.randn(3, 9, 16)
    perm = torch.roll(torch.arange(9), 1)
    y, _ = layer(positions(x))
    y_perm, _ = layer(positions(x[:, perm]))
    assert (y_perm - y[:, perm]).abs().max() > 0.1


def test_classifier_without_positions_cannot_tell_a_shuffle() -> None:
    config = TransformerConfig.tiny(positions="none")
    model = TransformerClassifier(config, num_classes=2).eval()
    ids = torch.randint(7, config.vocab_size, (4, 6))
    logits, _ = model(ids)
    shuffled, _ = model(ids[:, torch.tensor([5, 2, 0, 1, 4, 3])])
    assert_close(logits, shuffled, atol=1e-5, rtol=1e-5)
    ordered = TransformerClassifier(TransformerConfig.tiny(positions="sinusoidal"), 2).eval()
    assert not torch.allclose(ordered(ids)[0], ordered(ids[:, torch.tensor([5, 2, 0, 1, 4, 3])])[0], atol=1e-4)


# --------------------------------------------------------------------------------- layers vs torch


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_from_torch_gives_torch_outputs(norm_first: bool, activation: str) -> None:
    reference = nn.TransformerEncoderLayer(32, 4, 64, dropout=0.1, activation=activation, batch_first=True,
                                           norm_first=norm_first).eval()
    ours = TransformerEncoderLayer.from_torch(reference)
    assert not ours.training and ours.norm_first == norm_first
    x = torch.randn(3, 7, 32)
    assert_close(ours(x)[0], reference(x))
    lengths = torch.tensor([7, 4, 2])
    ignore = torch.arange(7)[None, :] >= lengths[:, None]  # torch: True = ignore
    out, _ = ours(x, padding_mask(lengths))
    for b, n in enumerate(lengths.tolist()):  # torch's fast path zeroes padded rows: compare real tokens
        assert_close(out[b, :n], reference(x, src_key_padding_mask=ignore)[b, :n])


def test_from_torch_gradients_match_in_float64() -> None:
    reference = nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=True).double()
    ours = TransformerEncoderLayer.from_torch(reference)
    x = torch.randn(2, 5, 16, dtype=torch.float64)
    ours(x)[0].pow(2).sum().backward()
    reference(x).pow(2).sum().backward()
    assert_close(ours.ffn.linear1.weight.grad, reference.linear1.weight.grad)
    assert_close(ours.self_attn.query.weight.grad, reference.self_attn.in_proj_weight.grad[:16])


def test_post_ln_layer_is_add_and_norm_of_its_parts() -> None:
    layer = TransformerEncoderLayer(16, 4, 32, dropout=0.0)
    x = torch.randn(2, 5, 16)
    a = layer.norm1(x + layer.self_attn(x, x, x)[0])
    expected = layer.norm2(a + layer.ffn.linear2(torch.relu(layer.ffn.linear1(a))))
    out, weights = layer(x, need_weights=True)
    assert_close(out, expected)
    assert weights.shape == (2, 4, 5, 5)
    assert_close(weights.sum(-1), torch.ones(2, 4, 5))
    assert isinstance(layer.ffn, FeedForward)


@pytest.mark.parametrize("act", ["gelu", "relu"])
def test_a_bert_layer_is_this_encoder_layer_under_other_names(act: str) -> None:
    """BERT_LAYER_NAMES is real: our BertLayer loads into a TransformerEncoderLayer and both compute the same."""
    from course_lib.bert import BertConfig, BertLayer

    torch.manual_seed(0)
    config = BertConfig(vocab_size=10, hidden_size=16, num_attention_heads=4, intermediate_size=40, hidden_act=act,
                        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    bert_layer = BertLayer(config).eval()
    for p in bert_layer.parameters():  # not the LayerNorms' 1 and 0: every weight must be mapped right
        torch.nn.init.normal_(p, std=0.3)
    layer = TransformerEncoderLayer.from_bert(bert_layer, num_heads=4, activation=act).eval()
    assert {f"{BERT_LAYER_NAMES[k.rsplit('.', 1)[0]]}.{k.rsplit('.', 1)[1]}" for k in bert_layer.state_dict()} == \
        set(layer.state_dict())
    x = torch.randn(3, 7, 16)
    mask = padding_mask([7, 4, 1], max_length=7)
    assert_close(layer(x, mask)[0], bert_layer(x, mask, False)[0], atol=1e-6, rtol=1e-6)


def test_a_transformers_bert_layer_loads_the_same_way() -> None:
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    config = transformers.BertConfig(hidden_size=16, num_attention_heads=4, intermediate_size=40,
                                     hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    config._attn_implementation = "eager"
    theirs = transformers.models.bert.modeling_bert.BertLayer(config).eval()
    layer = TransformerEncoderLayer.from_bert(theirs, num_heads=4).eval()
    x = torch.randn(2, 5, 16)
    out = theirs(x)
    assert_close(layer(x)[0], out[0] if isinstance(out, tuple) else out, atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize("norm_first", [False, True])
def test_padding_does_not_change_real_tokens(norm_first: bool) -> None:
    encoder = TransformerEncoder(2, 16, 4, 32, dropout=0.0, norm_first=norm_first)
    short = torch.randn(1, 4, 16)
    padded = torch.cat([short, torch.randn(1, 3, 16) * 50], dim=1)  # junk in the padding
    alone, _ = encoder(short)
    together, _ = encoder(padded, padding_mask([4], max_length=7))
    assert_close(together[:, :4], alone, atol=1e-5, rtol=1e-5)

    decoder = TransformerDecoder(2, 16, 4, 32, dropout=0.0, norm_first=norm_first)
    y = torch.randn(1, 3, 16)
    assert_close(decoder(y, padded, padding_mask([4], max_length=7))[0], decoder(y, short)[0],
                 atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_is_causal(norm_first: bool) -> None:
    """Changing the targets after step t leaves outputs at steps 0..t unchanged; changing step t does not."""
    decoder = TransformerDecoder(2, 16, 4, 32, dropout=0.0, norm_first=norm_first)
    memory = torch.randn(2, 6, 16)
    y = torch.randn(2, 8, 16)
    out, _ = decoder(y, memory)
    for t in (0, 3, 6):
        changed = y.clone()
        changed[:, t + 1:] = torch.randn(2, 7 - t, 16)
        out2, _ = decoder(changed, memory)
        assert_close(out2[:, :t + 1], out[:, :t + 1])
        assert (out2[:, t + 1:] - out[:, t + 1:]).abs().max() > 1e-3


def test_decoder_layer_returns_self_and_cross_weights() -> None:
    layer = TransformerDecoderLayer(16, 4, 32, dropout=0.0)
    out, weights = layer(torch.randn(2, 5, 16), torch.randn(2, 7, 16), need_weights=True)
    assert out.shape == (2, 5, 16)
    assert weights.self_attention.shape == (2, 4, 5, 5) and weights.cross_attention.shape == (2, 4, 5, 7)
    assert layer(torch.randn(2, 5, 16), torch.randn(2, 7, 16))[1] is None


# ----------------------------------------------------------------------------------- seq2seq


def reversal_batch(config: TransformerConfig, B: int = 8, T: int = 5, seed: int = 0) -> dict[str, torch.Tensor]:
    """Reverse a random sequence of word ids (7.. vocab_size - 1); the last two rows are padded shorter."""
    g = torch.Generator().manual_seed(seed)
    src = torch.randint(7, config.vocab_size, (B, T), generator=g)
    lengths = torch.full((B,), T)
    lengths[-2:] = T - 2
    src_mask = (torch.arange(T)[None] < lengths[:, None]).long()
    src = src * src_mask
    tgt = [row[:n].flip(0).tolist() for row, n in zip(src, lengths, strict=True)]
    tgt_in = torch.zeros(B, T + 1, dtype=torch.long)
    tgt_out = torch.zeros(B, T + 1, dtype=torch.long)
    for b, t in enumerate(tgt):
        tgt_in[b, :len(t) + 1] = torch.tensor([config.bos_id, *t])
        tgt_out[b, :len(t) + 1] = torch.tensor([*t, config.eos_id])
    return {"src_ids": src, "src_mask": src_mask, "tgt_in": tgt_in, "tgt_out": tgt_out,
            "tgt_mask": (tgt_out != 0).long()}


@pytest.mark.parametrize("positions", ["sinusoidal", "learned"])
def test_seq2seq_overfits_one_batch_and_decodes_it(positions: str) -> None:
    config = TransformerConfig.tiny(positions=positions)
    model = Seq2SeqTransformer(config)
    batch = reversal_batch(config)
    _, before = model(**batch)
    history = fit(model, [batch], TrainConfig(steps=100, lr=5e-3, progress=False))
    _, after = model(**batch)
    assert after < 0.05 < before.item() / 20, (before.item(), after.item())
    assert history.train_loss[-1] < 0.1
    model.eval()
    decoded = model.greedy_decode(batch["src_ids"], batch["src_mask"], max_len=10)
    expected = batch["tgt_out"][:, :decoded.shape[1]]
    assert torch.equal(decoded, expected)


def test_greedy_decoding_stops_at_eos_and_respects_max_len() -> None:
    config = TransformerConfig.tiny()
    model = Seq2SeqTransformer(config).eval()
    src = torch.randint(7, config.vocab_size, (3, 4))
    with torch.no_grad():  # make <eos> the only thing the model can say: decoding stops after one step
        model.embedding.weight[config.eos_id] = model.embedding.weight.abs().sum() + 10.0
        model.decoder.norm = nn.Identity()
        for layer in model.decoder.layers:
            layer.norm3.weight.zero_()
            layer.norm3.bias.copy_(model.embedding.weight[config.eos_id] / 100)
    out = model.greedy_decode(src, max_len=9)
    assert out.tolist() == [[config.eos_id]] * 3

    never = Seq2SeqTransformer(config).eval()
    with torch.no_grad():
        never.embedding.weight[config.eos_id] = -never.embedding.weight.abs().sum()
    out = never.greedy_decode(src, max_len=5)
    assert out.shape == (3, 5) and (out != config.eos_id).all()


def test_rows_that_finished_are_padded() -> None:
    config = TransformerConfig.tiny()
    model = Seq2SeqTransformer(config)
    batch = reversal_batch(config)
    fit(model, [batch], TrainConfig(steps=100, lr=5e-3, progress=False))
    model.eval()
    out = model.greedy_decode(batch["src_ids"], batch["src_mask"], max_len=12)
    for row in out.tolist():
        end = row.index(config.eos_id)
        assert all(t == config.pad_id for t in row[end + 1:])


def test_attention_maps_have_the_explorer_shapes() -> None:
    config = TransformerConfig.tiny(num_encoder_layers=2, num_decoder_layers=2)
    model = Seq2SeqTransformer(config)
    batch = reversal_batch(config, B=2)
    att = model.attention(batch["src_ids"], batch["tgt_in"], batch["src_mask"])
    assert [w.shape for w in att.cross] == [(2, 2, 6, 5)] * 2
    joint = joint_attention(att, index=1)
    assert joint.shape == (2, 2, 11, 11)
    assert_close(joint[:, :, :5, :5], torch.stack(att.encoder)[:, 1])
    assert torch.all(joint[:, :, :5, 5:] == 0)
    assert_close(joint[:, :, 5:].sum(-1), torch.full((2, 2, 6), 2.0))  # self + cross, each sums to 1


def test_config_tiny_and_parameter_sharing() -> None:
    config = TransformerConfig.tiny(d_model=16)
    assert config.d_model == 16 and config.num_heads == 2
    model = Seq2SeqTransformer(config)
    assert config.vocab_size * config.d_model == model.embedding.weight.numel()
    logits, loss = model(torch.randint(7, 24, (2, 3)), torch.randint(7, 24, (2, 4)))
    assert logits.shape == (2, 4, 24) and loss is None


# ----------------------------------------------------------------------------------- compare


def test_receptive_fields_of_the_three_layers() -> None:
    layers = matched_layers(width=8, kernel_size=3, num_heads=2)
    assert receptive_field(layers["1-D CNN"], T=9, position=4) == [3, 4, 5]
    assert receptive_field(layers["1-D CNN"], T=9, position=4, num_layers=2) == [2, 3, 4, 5, 6]
    assert receptive_field(layers["LSTM"], T=9, position=4) == [0, 1, 2, 3, 4]
    assert receptive_field(layers["self-attention"], T=9, position=4) == list(range(9))
    n = 9
    cnn = path_lengths(n)["1-D CNN"]["layers"]
    assert 0 in receptive_field(layers["1-D CNN"], T=n, position=n - 1, num_layers=cnn)
    assert 0 not in receptive_field(layers["1-D CNN"], T=n, position=n - 1, num_layers=cnn - 1)


def test_time_layers_returns_a_time_per_layer_and_length() -> None:
    times = time_layers([4, 8], batch_size=2, width=8, repeats=1)
    assert set(times) == {"LSTM", "1-D CNN", "self-attention"}
    assert all(set(t) == {4, 8} and all(v > 0 for v in t.values()) for t in times.values())
    some = time_layers([4], batch_size=2, width=8, repeats=1, names=["LSTM"], backward=False, threads=1,
                       statistic="min", lstm_kernel="onednn")
    assert list(some) == ["LSTM"] and some["LSTM"][4] > 0
    with pytest.raises(ValueError, match="unknown layer names"):
        time_layers([4], width=8, names=["GRU"])
    with pytest.raises(ValueError, match="lstm_kernel"):
        time_layers([4], width=8, lstm_kernel="cudnn")


def test_timing_settings_and_parallel_times() -> None:
    settings = timing_settings((1, 2), cuda=False)
    assert settings == {"1 thread": ("cpu", 1), "2 threads": ("cpu", 2)}
    assert ("cuda" in timing_settings((1,))) == torch.cuda.is_available()
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA"):
            timing_settings((1,), cuda=True)
    with pytest.raises(ValueError, match="threads"):
        timing_settings((0,))
    before = torch.get_num_threads()
    times = parallel_times([4, 8], threads=(1, 2), cuda=False, batch_size=2, width=8, repeats=2)
    assert torch.get_num_threads() == before  # the thread count is restored
    assert list(times) == ["1 thread", "2 threads"]
    assert all(list(by_layer) == ["LSTM", "self-attention"] for by_layer in times.values())
    assert all(set(row) == {4, 8} and min(row.values()) > 0 for by_layer in times.values() for row in by_layer.values())


def test_dependency_depth_grows_with_T_for_the_LSTM_only() -> None:
    layers = matched_layers(width=8, num_heads=2)
    depths = {name: [dependency_depth(layer, T) for T in (4, 8, 16)] for name, layer in layers.items()}
    lstm = depths["LSTM"]
    assert lstm[1] - lstm[0] > 0 and (lstm[2] - lstm[1]) == 2 * (lstm[1] - lstm[0])  # a fixed chain per step
    assert len(set(depths["1-D CNN"])) == 1 and len(set(depths["self-attention"])) == 1
    assert lstm[0] > depths["self-attention"][0]


@pytest.mark.parametrize("T", [5, 12])
@pytest.mark.parametrize("width", [8, 16])
def test_counted_multiply_adds_equal_the_formulas(T: int, width: int) -> None:
    layers = matched_layers(width=width, num_heads=2)
    costs = layer_costs(T, width)
    for name, layer in layers.items():
        assert multiply_adds(layer, T) == costs[name]["multiply-adds"], name


def test_layer_costs_name_the_orders_and_count_the_steps() -> None:
    costs = layer_costs(n=9, d=16, kernel_size=3)
    assert [costs[n]["complexity"] for n in ("self-attention", "LSTM", "1-D CNN")] == ["O(n²·d)", "O(n·d²)", "O(k·n·d²)"]
    assert costs["LSTM"]["sequential steps"] == 9 and costs["self-attention"]["sequential steps"] == 1
    assert costs["1-D CNN"]["path steps"] == path_lengths(9)["1-D CNN"]["max path length"] == 8
    # the n² term of attention overtakes its n·d² projections at n = 2d
    at = {n: layer_costs(n, 16)["self-attention"]["multiply-adds"] for n in (32, 64)}
    assert at[32] == 2 * 4 * 32 * 16 * 16 and at[64] / at[32] == 3.0


# ----------------------------------------------------------------------------------- checkers


def test_checkers_of_notebook_07(capsys) -> None:
    from course_lib.checks.positional import check_offset_matrix

    def todo(*args):
        raise NotImplementedError

    assert not check_offset_matrix(todo) and "not answered yet" in capsys.readouterr().out
    assert check_offset_matrix(offset_matrix)
    assert not check_offset_matrix(lambda k, d: offset_matrix(k, d).T) and "transpose" in capsys.readouterr().out


def test_checkers_of_notebook_08(capsys) -> None:
    from course_lib.checks.transformer import check_cnn_layers

    assert check_cnn_layers(lambda n, k: -(-(n - 1) // (k // 2)))
    assert not check_cnn_layers(lambda n, k: -(-(n - 1) // (k - 1)))
