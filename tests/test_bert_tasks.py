"""The fine-tuning heads, span decoding and metrics of course_lib.bert_tasks."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch.testing import assert_close

from course_lib.bert import (
    BertConfig,
    BertForPreTraining,
    BertForQuestionAnswering,
    BertForSequenceClassification,
    BertForTokenClassification,
    BertForWordPairClassification,
    BertModel,
    accuracy,
    best_spans,
    exact_match,
    fine_tune,
    macro_f1,
    predict,
    span_f1,
    span_words,
)

pytestmark = pytest.mark.usefixtures("one_thread")


def tiny_config(**changes) -> BertConfig:
    base = dict(vocab_size=50, hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=24,
                hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, max_position_embeddings=32)
    return BertConfig(**{**base, **changes})


def batch(B: int = 3, T: int = 7, V: int = 50, seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(5, V, (B, T), generator=g)
    mask = torch.ones(B, T, dtype=torch.long)
    mask[0, -2:] = 0  # one padded row
    ids[mask == 0] = 0
    types = torch.zeros(B, T, dtype=torch.long)
    types[:, T // 2:] = 1
    return {"input_ids": ids, "token_type_ids": types, "attention_mask": mask}


# ------------------------------------------------------------------ equal to Hugging Face's heads

HEADS = [("BertForSequenceClassification", BertForSequenceClassification, 3),
         ("BertForTokenClassification", BertForTokenClassification, 4),
         ("BertForQuestionAnswering", BertForQuestionAnswering, 2)]


@pytest.mark.parametrize(("hf_name", "ours_class", "num_labels"), HEADS)
def test_heads_load_hugging_face_weights_key_for_key_and_give_its_logits(hf_name, ours_class, num_labels):
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    hf_config = transformers.BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                                        intermediate_size=24, max_position_embeddings=32, num_labels=num_labels,
                                        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    theirs = getattr(transformers, hf_name)(hf_config).eval()
    ours = ours_class(BertConfig.from_dict(hf_config.to_dict()), num_labels=num_labels).eval()
    state = {k: v for k, v in theirs.state_dict().items() if not k.endswith(("position_ids", "token_type_ids"))}
    ours.load_state_dict(state)  # strict: the same keys and shapes
    inputs = batch()
    with torch.no_grad():
        expected = theirs(**inputs)
        got, _ = ours(**inputs)
    if hf_name == "BertForQuestionAnswering":
        real = inputs["attention_mask"].bool()  # ours never lets padding be a boundary
        assert_close(got.start_logits[real], expected.start_logits[real], atol=1e-5, rtol=1e-5)
        assert_close(got.end_logits[real], expected.end_logits[real], atol=1e-5, rtol=1e-5)
    else:
        assert_close(got.logits, expected.logits, atol=1e-5, rtol=1e-5)


# ------------------------------------------------------------------ shapes and losses


def test_sequence_classifier_shapes_and_loss():
    torch.manual_seed(0)
    model = BertForSequenceClassification(tiny_config(), num_labels=3).eval()
    labels = torch.tensor([0, 2, 1])
    out, loss = model(**batch(), labels=labels)
    assert out.logits.shape == (3, 3)
    assert_close(loss, F.cross_entropy(out.logits, labels))
    assert model(**batch())[1] is None


def test_token_classifier_ignores_unscored_positions():
    torch.manual_seed(0)
    model = BertForTokenClassification(tiny_config(), num_labels=4).eval()
    inputs = batch()
    labels = torch.randint(0, 4, (3, 7))
    labels[:, 0] = -100
    out, loss = model(**inputs, labels=labels)
    assert out.logits.shape == (3, 7, 4)
    changed = labels.clone()
    changed[:, 0] = -100  # still ignored: the loss must not move when the ignored labels change
    _, same = model(**inputs, labels=changed)
    assert_close(loss, same)
    keep = labels != -100
    assert_close(loss, F.cross_entropy(out.logits[keep], labels[keep]))
    with pytest.raises(ValueError, match="shape of input_ids"):
        model(**inputs, labels=labels[:, :3])


def test_question_answering_loss_is_the_mean_of_start_and_end_and_padding_is_never_a_boundary():
    torch.manual_seed(0)
    model = BertForQuestionAnswering(tiny_config()).eval()
    inputs = batch()
    start, end = torch.tensor([1, 0, 3]), torch.tensor([2, 0, 5])
    out, loss = model(**inputs, start_positions=start, end_positions=end)
    assert out.start_logits.shape == out.end_logits.shape == (3, 7)
    expected = (F.cross_entropy(out.start_logits, start) + F.cross_entropy(out.end_logits, end)) / 2
    assert_close(loss, expected)
    padded = inputs["attention_mask"] == 0
    assert (out.start_logits[padded] < -1e30).all() and (out.end_logits[padded] < -1e30).all()
    spans = best_spans(out.start_logits, out.end_logits, context_mask=inputs["attention_mask"].bool())
    for span, row_mask in zip(spans, inputs["attention_mask"], strict=True):
        if span is not None:
            assert row_mask[span[0]] == 1 and row_mask[span[1]] == 1


def test_bad_configurations_are_explained():
    with pytest.raises(ValueError, match="num_labels must be >= 1"):
        BertForSequenceClassification(tiny_config(), num_labels=0)
    with pytest.raises(ValueError, match="two outputs"):
        BertForQuestionAnswering(tiny_config(), num_labels=3)
    with pytest.raises(TypeError, match="pass its .bert"):
        BertForSequenceClassification.from_encoder(BertForPreTraining(tiny_config()))


# ------------------------------------------------------------------ pre-trained encoder, frozen or not


def test_from_encoder_copies_the_weights_and_leaves_the_original_alone():
    torch.manual_seed(0)
    bert = BertModel(tiny_config())
    before = {k: v.clone() for k, v in bert.state_dict().items()}
    model = BertForSequenceClassification.from_encoder(bert, num_labels=2)
    assert_close(model.bert.embeddings.word_embeddings.weight, bert.embeddings.word_embeddings.weight)
    inputs = {**batch(), "labels": torch.tensor([0, 1, 1])}
    fine_tune(model, [inputs], steps=5, lr=1e-2, progress=False, device="cpu")
    for k, v in bert.state_dict().items():
        assert torch.equal(v, before[k]), f"{k} of the pre-trained model changed"
    assert not torch.equal(model.bert.embeddings.word_embeddings.weight, bert.embeddings.word_embeddings.weight)


def test_frozen_encoder_only_the_head_learns():
    torch.manual_seed(0)
    bert = BertModel(tiny_config(hidden_dropout_prob=0.5))
    model = BertForTokenClassification.from_encoder(bert, num_labels=3, freeze_encoder=True)
    assert model.encoder_frozen()
    model.train()
    assert not model.bert.training, "a frozen encoder runs without dropout"
    labels = torch.randint(0, 3, (3, 7))
    _, loss = model(**batch(), labels=labels)
    loss.backward()
    assert all(p.grad is None for p in model.bert.parameters())
    assert model.classifier.weight.grad is not None
    assert model.num_parameters(trainable_only=True) == 16 * 3 + 3


def test_hidden_states_are_the_embeddings_then_every_layer_and_end_at_the_last_hidden_state():
    torch.manual_seed(0)
    bert = BertModel(tiny_config()).eval()
    inputs = batch()
    states = bert(**inputs, output_hidden_states=True)[0].hidden_states
    assert len(states) == 3 and all(h.shape == (3, 7, 16) for h in states)
    out, _ = bert(**inputs)
    assert_close(states[-1], out.last_hidden_state)
    assert_close(states[0], bert.embeddings(inputs["input_ids"], inputs["token_type_ids"]))


@pytest.mark.parametrize("cls", [BertForSequenceClassification, BertForTokenClassification, BertForQuestionAnswering])
def test_feature_based_layer_mix_learns_only_the_mix_and_the_head(cls):
    torch.manual_seed(0)
    bert = BertModel(tiny_config())
    model = cls.from_encoder(bert, freeze_encoder=True, mix_layers=True)
    inputs = batch()
    out, _ = model(**inputs)
    first = out.logits if hasattr(out, "logits") else out.start_logits
    first.sum().backward()
    assert all(p.grad is None for p in model.bert.parameters())
    assert model.mix.scalar_parameters.grad is not None
    assert_close(model.mix.weights().sum(), torch.tensor(1.0))
    with torch.no_grad():  # all the weight on the last layer: the plain (unmixed) head's input
        model.mix.scalar_parameters.copy_(torch.tensor([-1e4, -1e4, 1e4]))
        plain = cls.from_encoder(bert, freeze_encoder=True)
        plain.load_state_dict({k: v for k, v in model.state_dict().items() if not k.startswith("mix.")})
        mixed_out, _ = model.eval()(**inputs)
        plain_out, _ = plain.eval()(**inputs)
    if cls is BertForTokenClassification:
        assert_close(mixed_out.logits, plain_out.logits)
    elif cls is BertForQuestionAnswering:
        assert_close(mixed_out.start_logits, plain_out.start_logits)


def test_token_and_span_heads_have_no_pooler_weights_like_hugging_face():
    for cls in (BertForTokenClassification, BertForQuestionAnswering):
        model = cls(tiny_config())
        assert not any(k.startswith("bert.pooler") for k in model.state_dict()), cls.__name__
        model = cls.from_encoder(BertModel(tiny_config()))
        assert not any(k.startswith("bert.pooler") for k in model.state_dict()), cls.__name__
    assert any(k.startswith("bert.pooler") for k in BertForSequenceClassification(tiny_config()).state_dict())


@pytest.mark.parametrize("cls", [BertForSequenceClassification, BertForTokenClassification, BertForQuestionAnswering])
def test_fine_tuning_overfits_one_batch(cls):
    torch.manual_seed(0)
    model = cls(tiny_config())
    inputs = batch()
    if cls is BertForSequenceClassification:
        inputs["labels"] = torch.tensor([0, 1, 1])
    elif cls is BertForTokenClassification:
        inputs["labels"] = torch.randint(0, 2, (3, 7))
    else:
        inputs["start_positions"], inputs["end_positions"] = torch.tensor([1, 0, 2]), torch.tensor([3, 0, 2])
    inputs["word_index"] = [[0] * 7 for _ in range(3)]  # not a model input: fine_tune leaves it out
    _, first = model.eval()(**{k: v for k, v in inputs.items() if k != "word_index"})
    history = fine_tune(model, [inputs], steps=100, lr=1e-2, progress=False, device="cpu")
    assert history.train_loss[-1] < 0.2 * first.item()
    logits = predict(model, [inputs])
    assert len(logits) == 1


# ------------------------------------------------------------------ span decoding


def test_best_span_by_hand():
    start = torch.tensor([[0.0, 1.0, 5.0, 0.0, 0.0]])
    end = torch.tensor([[0.0, 4.0, 0.0, 3.0, 0.0]])
    # the best pair overall is (2, 1): start after end, not allowed; the best legal one is (2, 3)
    assert best_spans(start, end) == [(2, 3)]
    assert best_spans(start, end, max_answer_length=1) == [(1, 1)]  # (2, 2) = 5, (1, 1) = 5: the first wins
    no_answer = start.clone()
    no_answer[0, 0] = 10.0  # [CLS] span scores 10 > 8
    assert best_spans(no_answer, end) == [None]
    context = torch.tensor([[False, True, True, False, False]])
    assert best_spans(start, end, context_mask=context) == [(1, 1)]  # (1, 1) = 5 = (2, 2); the first wins


def test_best_spans_never_start_after_they_end():
    g = torch.Generator().manual_seed(0)
    start, end = torch.randn(200, 12, generator=g), torch.randn(200, 12, generator=g)
    start[:, 0] = end[:, 0] = -10.0
    for s, e in (span for span in best_spans(start, end, max_answer_length=4) if span is not None):
        assert 1 <= s <= e < s + 4


def test_best_spans_explain_bad_input():
    with pytest.raises(ValueError, match=r"\(B, T\)"):
        best_spans(torch.zeros(2, 5), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="max_answer_length"):
        best_spans(torch.zeros(2, 5), torch.zeros(2, 5), max_answer_length=0)


def test_span_words_map_pieces_back_to_context_words():
    context = ["the", "boat", "sails", "north"]
    word_index = [-1, -1, -1, 0, 1, 1, 2, 3, -1]  # [CLS] q [SEP] the bo ##at sails north [SEP]
    assert span_words((4, 6), word_index, context) == ["boat", "sails"]
    assert span_words(None, word_index, context) == []
    with pytest.raises(ValueError, match="not inside the context"):
        span_words((1, 4), word_index, context)


# ------------------------------------------------------------------ metrics


def test_exact_match_and_f1_by_hand():
    assert exact_match(["The", "Cat"], "the cat.") == 1.0
    assert exact_match("the cat", "a cat") == 0.0
    assert exact_match([], []) == 1.0  # both say "no answer"
    # common words 2: precision 2/3, recall 2/4, F1 = 2 * (2/3)(1/2) / (2/3 + 1/2) = 4/7
    assert span_f1("the cat sat", "cat sat on mat") == pytest.approx(4 / 7)
    assert span_f1([], "cat") == 0.0 and span_f1("cat", []) == 0.0 and span_f1([], []) == 1.0
    assert span_f1("dog", "cat") == 0.0


def test_accuracy_and_macro_f1_by_hand():
    assert accuracy([1, 0, 1, 1], [1, 1, 1, -100]) == pytest.approx(2 / 3)
    # class 0: tp 1 fp 0 fn 1 -> 2/3; class 1: tp 2 fp 1 fn 0 -> 4/5
    assert macro_f1([0, 1, 1, 1], [0, 0, 1, 1]) == pytest.approx((2 / 3 + 4 / 5) / 2)
    with pytest.raises(ValueError, match="no scored position"):
        accuracy([1], [-100])
    with pytest.raises(ValueError, match="labels"):
        macro_f1([1, 2], [1])


# ------------------------------------------------------------------ the word-pair head


def test_word_pair_head_reads_the_two_words_and_learns_through_fine_tune():
    torch.manual_seed(0)
    model = BertForWordPairClassification(tiny_config(), num_labels=2).eval()
    inputs = batch()
    a, b = torch.tensor([1, 2, 0]), torch.tensor([4, 6, 3])
    out, loss = model(**inputs, positions_a=a, positions_b=b, labels=torch.tensor([0, 1, 1]))
    h = model.bert(**inputs)[0].last_hidden_state
    rows = torch.arange(3)
    u, v = h[rows, a], h[rows, b]
    assert_close(out.logits, model.classifier(torch.cat([u, v, (u - v).abs(), u * v], dim=-1)))
    assert_close(loss, F.cross_entropy(out.logits, torch.tensor([0, 1, 1])))
    assert not any(k.startswith("bert.pooler") for k in model.state_dict())
    with pytest.raises(ValueError, match="positions_a"):
        model(**inputs)
    train = {**inputs, "positions_a": a, "positions_b": b, "labels": torch.tensor([0, 1, 1])}
    history = fine_tune(model, [train], steps=60, lr=1e-2, progress=False, device="cpu")
    assert history.train_loss[-1] < 0.2 * loss.item()
    (logits,) = predict(model, [train])  # predict passes the positions on
    assert logits.argmax(-1).tolist() == [0, 1, 1]


def test_word_pair_head_with_a_frozen_mixed_encoder():
    torch.manual_seed(0)
    model = BertForWordPairClassification.from_encoder(BertModel(tiny_config()), freeze_encoder=True,
                                                       mix_layers=True)
    out, _ = model(**batch(), positions_a=torch.tensor([1, 2, 0]), positions_b=torch.tensor([4, 6, 3]))
    out.logits.sum().backward()
    assert all(p.grad is None for p in model.bert.parameters())
    assert model.mix.scalar_parameters.grad is not None


@pytest.mark.parametrize("cls", [BertForSequenceClassification, BertForTokenClassification, BertForQuestionAnswering])
def test_feature_bilstm_reads_the_top_layers_concatenated_and_learns_only_the_head(cls):
    torch.manual_seed(0)
    bert = BertModel(tiny_config())
    model = cls.from_encoder(bert, freeze_encoder=True, concat_layers=2, seed=0).eval()
    lstm = model.feature_lstm.lstm
    assert lstm.input_size == 2 * 16 and lstm.hidden_size == 8 and lstm.bidirectional and lstm.num_layers == 2
    inputs = batch()
    out, _ = model(**inputs)
    first = out.logits if hasattr(out, "logits") else out.start_logits
    first.sum().backward()
    assert all(p.grad is None for p in model.bert.parameters())
    assert all(p.grad is not None for p in model.feature_lstm.parameters())
    # what the BiLSTM reads: the last two of the three hidden states, side by side, each sequence unpadded
    states = bert.eval()(**inputs, output_hidden_states=True)[0].hidden_states
    lengths = inputs["attention_mask"].sum(1).tolist()
    for i, n in enumerate(lengths):
        alone, _ = lstm(torch.cat(states[-2:], -1)[i : i + 1, :n])
        by_head = model.feature_lstm(torch.cat(states[-2:], -1), inputs["attention_mask"])
        assert_close(by_head[i, :n], alone[0])
        assert (by_head[i, n:] == 0).all()  # padding: never read, returned as zeros


def test_feature_bilstm_options_are_checked():
    bert = BertModel(tiny_config())
    with pytest.raises(ValueError, match="from 0 \\(off\\) to 3"):
        BertForTokenClassification.from_encoder(bert, concat_layers=4)
    with pytest.raises(ValueError, match="not both"):
        BertForTokenClassification.from_encoder(bert, mix_layers=True, concat_layers=2)
    with pytest.raises(ValueError, match="an int"):
        BertForTokenClassification.from_encoder(bert, concat_layers=True)
