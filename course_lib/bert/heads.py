"""BERT for the four kinds of downstream task, with Hugging Face's head names, and their metrics.

    BertForSequenceClassification   bert, dropout, classifier   one label per sentence or pair, from [CLS]
    BertForTokenClassification      bert, dropout, classifier   one label per token (-100: not scored)
    BertForQuestionAnswering        bert, qa_outputs            a start and an end score for every token
    BertForWordPairClassification   bert, dropout, classifier   one label per pair of words (one in each sentence)

The module names equal those of ``transformers``, so the state dict of a fine-tuned Hugging Face model
loads into ours key for key (``tests/test_bert_tasks.py`` checks the logits). Each head can start from
a pre-trained encoder: ``BertForSequenceClassification.from_encoder(bert, num_labels=2)`` copies the
weights, leaving the pre-trained model untouched; ``freeze_encoder=True`` gives feature-based use
(only the head learns), ``mix_layers=True`` lets the head read a learned ELMo-style scalar mix of
all L + 1 layers (``output_hidden_states``) instead of the last one, and ``concat_layers=k`` a two-layer
BiLSTM over the top k layers concatenated (the BERT paper's best feature-based setting, section 5.3).

Span decoding follows BERT's SQuAD 2.0 recipe: the best span (s, e) maximizes start[s] + end[e] over
s ≤ e < s + max_answer_length inside the context, and the answer is "none" when the [CLS] score
start[0] + end[0] beats it.
"""

from __future__ import annotations

import copy
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from course_lib.arguments import check_labels, should_check
from course_lib.bert.model import BertConfig, BertModel, _init_weights
from course_lib.elmo import ScalarMix


class ClassifierOutput(NamedTuple):
    logits: Tensor  # (B, num_labels) for sentences, (B, T, num_labels) for tokens
    attentions: list[Tensor] | None


class QAOutput(NamedTuple):
    start_logits: Tensor  # (B, T)
    end_logits: Tensor  # (B, T)
    attentions: list[Tensor] | None


class _Encoded(NamedTuple):
    tokens: Tensor  # (B, T, H): the last layer, or the learned mix of all layers
    sentence: Tensor  # (B, H): the pooler's output, or the mix at [CLS]
    attentions: list[Tensor] | None


class _FirstToken(nn.Module):
    """Stands in for the pooler of heads that do not use it (Hugging Face builds those without one)."""

    def forward(self, x: Tensor) -> Tensor:
        return x[:, 0]


class PackedBiLSTM(nn.Module):
    """A bidirectional LSTM (H/2 per direction) over the real tokens only (packed): (B, T, input_size) -> (B, T, H).

    Its backward half gives each token its right context again, whatever the encoder below could see (the
    "LTR + BiLSTM" ablation); over several layers side by side it is the BERT paper's best feature-based head.
    """

    def __init__(self, hidden_size: int, input_size: int | None = None, num_layers: int = 1) -> None:
        super().__init__()
        self.lstm = nn.LSTM(hidden_size if input_size is None else input_size, hidden_size // 2,
                            num_layers=num_layers, batch_first=True, bidirectional=True)

    def forward(self, x: Tensor, attention_mask: Tensor | None = None) -> Tensor:
        B, T, _ = x.shape
        lengths = torch.full((B,), T) if attention_mask is None else attention_mask.long().sum(1).clamp(min=1).cpu()
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        out, _ = self.lstm(packed)
        out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=T)  # (B, T, H)
        return out


class _BertWithHead(nn.Module):
    """A ``BertModel`` (``self.bert``) plus a task head built by ``_build_head``."""

    uses_pooler = True  # token and span heads read every token's state; their ``bert`` has no pooler weights

    def __init__(self, config: BertConfig, num_labels: int = 2, classifier_dropout: float | None = None,
                 mix_layers: bool = False, concat_layers: int = 0) -> None:
        super().__init__()
        if num_labels < 1:
            raise ValueError(f"num_labels must be >= 1, got {num_labels}")
        _check_feature_options(config, mix_layers, concat_layers)
        self.config = config
        self.num_labels = num_labels
        self.bert = self._without_unused_pooler(BertModel(config))
        self._build_head(config, num_labels, config.hidden_dropout_prob if classifier_dropout is None
                         else classifier_dropout)
        for name, module in self.named_children():
            if name != "bert":
                module.apply(lambda m: _init_weights(m, config.initializer_range))
        # feature-based use as in ELMo: the head reads gamma * sum_j s_j h_j over the L + 1 layers
        self.mix = ScalarMix(config.num_hidden_layers + 1) if mix_layers else None
        # the BERT paper's best feature-based setting (section 5.3): the top layers concatenated, a two-layer
        # BiLSTM on them (H / 2 per direction here, so that the head reads H-vectors as from the last layer)
        self.concat_layers = concat_layers
        self.feature_lstm = PackedBiLSTM(config.hidden_size, concat_layers * config.hidden_size,
                                         num_layers=2) if concat_layers else None

    def _encode(self, input_ids: Tensor, token_type_ids: Tensor | None, attention_mask: Tensor | None,
                output_attentions: bool) -> _Encoded:
        if self.mix is None and self.feature_lstm is None:
            out, _ = self.bert(input_ids, token_type_ids, attention_mask, output_attentions)
            return _Encoded(out.last_hidden_state, out.pooler_output, out.attentions)
        out, _ = self.bert(input_ids, token_type_ids, attention_mask, output_hidden_states=True)
        states = out.hidden_states
        mask = None if attention_mask is None else attention_mask.bool()
        if self.feature_lstm is not None:
            tokens = self.feature_lstm(torch.cat(states[-self.concat_layers:], dim=-1), attention_mask)
            return _Encoded(tokens, tokens[:, 0], None)
        mixed = self.mix(states, mask)
        return _Encoded(mixed, mixed[:, 0], None)

    classifier_inputs = 1  # how many H-vectors the classifier reads side by side

    def _build_head(self, config: BertConfig, num_labels: int, dropout: float) -> None:
        """The classification heads' head: dropout, then one linear layer (the span head has its own)."""
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(self.classifier_inputs * config.hidden_size, num_labels)

    def _check_labels(self, labels: Tensor | None, shape: tuple[int, ...], ignore_index: int | None = None,
                      shape_name: str = "one per sequence") -> None:
        if labels is not None and should_check():
            check_labels(labels, self.num_labels, "labels", shape, "num_labels", ignore_index, shape_name)

    @classmethod
    def from_encoder(cls, bert: BertModel, num_labels: int = 2, freeze_encoder: bool = False,
                     mix_layers: bool = False, classifier_dropout: float | None = None, seed: int | None = 0,
                     concat_layers: int = 0):
        """A new head on a *copy* of ``bert``'s weights (the head's initialisation follows ``seed``).

        ``freeze_encoder=True``: the encoder's parameters do not learn (feature-based use).
        ``mix_layers=True``: the head reads a learned scalar mix of all L + 1 layers (as ELMo's tasks
        do) instead of the last layer; sentence heads then read the mix at [CLS].
        ``concat_layers=k``: the head reads a two-layer BiLSTM run over the top k of the L + 1 layers
        concatenated (the BERT paper's best feature-based setting used the top four of BERT-base's twelve);
        sentence heads read its output at [CLS].
        """
        if not isinstance(bert, BertModel):
            raise TypeError(f"from_encoder needs a course_lib.bert.BertModel, got {type(bert).__name__}; "
                            "for a BertForPreTraining pass its .bert")
        _check_feature_options(bert.config, mix_layers, concat_layers)
        if seed is not None:
            torch.manual_seed(seed)
        model = cls(bert.config, num_labels=num_labels, classifier_dropout=classifier_dropout, mix_layers=mix_layers,
                    concat_layers=concat_layers)
        model.bert = model._without_unused_pooler(copy.deepcopy(bert))
        model.bert.requires_grad_(not freeze_encoder)
        return model

    def _without_unused_pooler(self, bert: BertModel) -> BertModel:
        if not self.uses_pooler:
            bert.pooler = _FirstToken()
        return bert

    def encoder_frozen(self) -> bool:
        return not any(p.requires_grad for p in self.bert.parameters())

    def train(self, mode: bool = True):
        super().train(mode)
        if mode and self.encoder_frozen():
            self.bert.eval()  # a frozen encoder is a fixed feature extractor: no dropout in it
        return self

    def num_parameters(self, trainable_only: bool = False) -> int:
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)


def _check_feature_options(config: BertConfig, mix_layers: bool, concat_layers: int) -> None:
    layers = config.num_hidden_layers + 1
    if isinstance(concat_layers, bool) or not isinstance(concat_layers, int) or not 0 <= concat_layers <= layers:
        raise ValueError(f"concat_layers must be an int from 0 (off) to {layers} (the embeddings and "
                         f"{config.num_hidden_layers} layers of this encoder), got {concat_layers!r}")
    if concat_layers and config.hidden_size % 2:
        raise ValueError(f"concat_layers needs an even hidden_size (the BiLSTM gives H / 2 per direction), "
                         f"got {config.hidden_size}")
    if mix_layers and concat_layers:
        raise ValueError("choose one way to read the layers: mix_layers=True (a scalar mix) or concat_layers=k "
                         "(a BiLSTM over the top k layers), not both")


class BertForSequenceClassification(_BertWithHead):
    """A label for a sentence or a sentence pair from the pooled [CLS] vector: ``classifier(dropout(pooler))``."""

    def forward(self, input_ids: Tensor, token_type_ids: Tensor | None = None, attention_mask: Tensor | None = None,
                labels: Tensor | None = None, output_attentions: bool = False,
                **_unused) -> tuple[ClassifierOutput, Tensor | None]:
        """labels (B,) class ids -> (``ClassifierOutput`` with logits (B, num_labels), cross-entropy or None)."""
        out = self._encode(input_ids, token_type_ids, attention_mask, output_attentions)  # checks ids and mask
        self._check_labels(labels, (len(input_ids),))
        logits = self.classifier(self.dropout(out.sentence))
        loss = None if labels is None else F.cross_entropy(logits, labels)
        return ClassifierOutput(logits, out.attentions), loss


class BertForTokenClassification(_BertWithHead):
    """A label for every token from its last hidden state: ``classifier(dropout(h_t))``."""

    uses_pooler = False

    def forward(self, input_ids: Tensor, token_type_ids: Tensor | None = None, attention_mask: Tensor | None = None,
                labels: Tensor | None = None, output_attentions: bool = False,
                **_unused) -> tuple[ClassifierOutput, Tensor | None]:
        """labels (B, T) with -100 where nothing is scored (special tokens, padding, later word pieces)."""
        out = self._encode(input_ids, token_type_ids, attention_mask, output_attentions)  # checks ids and mask
        self._check_labels(labels, tuple(input_ids.shape), ignore_index=-100, shape_name="the shape of input_ids")
        logits = self.classifier(self.dropout(out.tokens))  # (B, T, num_labels)
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits.flatten(0, 1), labels.flatten(), ignore_index=-100)
        return ClassifierOutput(logits, out.attentions), loss


class BertForWordPairClassification(_BertWithHead):
    """A label for two chosen tokens (the same word in two sentences: same sense or not) from their last
    hidden states u, v: ``classifier(dropout([u; v; |u - v|; u * v]))``. Not a Hugging Face head."""

    uses_pooler = False

    classifier_inputs = 4  # [u; v; |u - v|; u * v]

    def forward(self, input_ids: Tensor, token_type_ids: Tensor | None = None, attention_mask: Tensor | None = None,
                positions_a: Tensor | None = None, positions_b: Tensor | None = None, labels: Tensor | None = None,
                output_attentions: bool = False, **_unused) -> tuple[ClassifierOutput, Tensor | None]:
        """positions_a, positions_b (B,): where the two words stand in ``input_ids`` (``collate_pairs``)."""
        if positions_a is None or positions_b is None:
            raise ValueError("BertForWordPairClassification needs positions_a and positions_b (see collate_pairs)")
        out = self._encode(input_ids, token_type_ids, attention_mask, output_attentions)  # checks ids and mask
        if should_check():
            B, T = input_ids.shape
            for name, positions in (("positions_a", positions_a), ("positions_b", positions_b)):
                check_labels(positions, T, name, (B,), "the sequence length T of input_ids")
        self._check_labels(labels, (len(input_ids),))
        rows = torch.arange(input_ids.shape[0], device=input_ids.device)
        u, v = out.tokens[rows, positions_a], out.tokens[rows, positions_b]  # (B, H) each
        logits = self.classifier(self.dropout(torch.cat([u, v, (u - v).abs(), u * v], dim=-1)))  # (B, num_labels)
        loss = None if labels is None else F.cross_entropy(logits, labels)
        return ClassifierOutput(logits, out.attentions), loss


class BertForQuestionAnswering(_BertWithHead):
    """Extractive QA: ``qa_outputs`` maps each h_t to a start score and an end score.

    That is BERT's start vector S and end vector E dotted with every token (plus a bias). The loss is the
    mean of the start and end cross-entropies over the sequence; a question with no answer has
    start = end = 0, the [CLS] position.
    """

    uses_pooler = False

    def __init__(self, config: BertConfig, num_labels: int = 2, classifier_dropout: float | None = None,
                 mix_layers: bool = False, concat_layers: int = 0) -> None:
        if num_labels != 2:
            raise ValueError(f"question answering has two outputs (start, end), got num_labels={num_labels}")
        super().__init__(config, num_labels, classifier_dropout, mix_layers, concat_layers)

    def _build_head(self, config: BertConfig, num_labels: int, dropout: float) -> None:
        self.qa_outputs = nn.Linear(config.hidden_size, 2)

    def forward(self, input_ids: Tensor, token_type_ids: Tensor | None = None, attention_mask: Tensor | None = None,
                start_positions: Tensor | None = None, end_positions: Tensor | None = None,
                output_attentions: bool = False, **_unused) -> tuple[QAOutput, Tensor | None]:
        if (start_positions is None) != (end_positions is None):
            raise ValueError("give both start_positions and end_positions (B,), or neither: with one of them the "
                             "loss would silently be None")
        out = self._encode(input_ids, token_type_ids, attention_mask, output_attentions)  # checks ids and mask
        if should_check() and start_positions is not None:
            B, T = input_ids.shape
            for name, positions in (("start_positions", start_positions), ("end_positions", end_positions)):
                check_labels(positions, T, name, (B,), "the sequence length T of input_ids (0 = [CLS]: no answer)")
        start, end = self.qa_outputs(out.tokens).unbind(-1)  # (B, T) each
        if attention_mask is not None:  # padding can never be a boundary
            start = start.masked_fill(attention_mask == 0, torch.finfo(start.dtype).min)
            end = end.masked_fill(attention_mask == 0, torch.finfo(end.dtype).min)
        loss = None
        if start_positions is not None and end_positions is not None:
            loss = (F.cross_entropy(start, start_positions) + F.cross_entropy(end, end_positions)) / 2
        return QAOutput(start, end, out.attentions), loss
