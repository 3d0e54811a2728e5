"""BERT with Hugging Face's module and config names, so real checkpoints load key for key.

    BertModel                         BertForPreTraining
    embeddings.word_embeddings        bert.…            (a BertModel)
    embeddings.position_embeddings    cls.predictions.transform.dense / .LayerNorm
    embeddings.token_type_embeddings  cls.predictions.decoder  (weight tied to word_embeddings)
    embeddings.LayerNorm              cls.predictions.bias
    encoder.layer[i].attention.self.query / key / value
    encoder.layer[i].attention.output.dense / LayerNorm
    encoder.layer[i].intermediate.dense
    encoder.layer[i].output.dense / LayerNorm
    pooler.dense                      cls.seq_relationship     (NSP: 0 = IsNext, 1 = NotNext)

Attention is softmax(QKᵀ/√D)V from ``course_lib.attention`` (torch's fused kernel when the weights
are not asked for). Masks there are boolean, True = may attend.

>>> model = BertModel(BertConfig.tiny())
>>> out, _ = model(torch.tensor([[2, 7, 8, 3]]))
>>> out.last_hidden_state.shape, out.pooler_output.shape
(torch.Size([1, 4, 128]), torch.Size([1, 128]))
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from course_lib.arguments import check_attention_mask, check_labels, check_token_ids, checked_inputs, should_check
from course_lib.attention import causal_mask, combine_masks, padding_mask, scaled_dot_product_attention
from course_lib.transformer import LearnedPositionalEmbedding

_ACTIVATIONS = {
    "gelu": F.gelu,
    "relu": F.relu,
    "gelu_new": lambda x: F.gelu(x, approximate="tanh"),
    "gelu_pytorch_tanh": lambda x: F.gelu(x, approximate="tanh"),
}


@dataclass
class BertConfig:
    """BERT's hyper-parameters under Hugging Face's field names (defaults: BERT-base, uncased)."""

    vocab_size: int = 30522  # V: WordPiece vocabulary
    hidden_size: int = 768  # H
    num_hidden_layers: int = 12  # L
    num_attention_heads: int = 12  # A; each head has D = H / A
    intermediate_size: int = 3072  # FFN width, 4H
    hidden_act: str = "gelu"  # exact (erf) GELU, as Google's BERT
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.1
    max_position_embeddings: int = 512  # P: learned positions
    type_vocab_size: int = 2  # segments A and B
    layer_norm_eps: float = 1e-12
    pad_token_id: int = 0
    initializer_range: float = 0.02  # std of the normal initialisation
    is_decoder: bool = False  # True: read left to right (causal mask; the pooler reads the last real token)
    tie_word_embeddings: bool = True  # the MLM decoder shares the word embeddings (False: a decoder of its own)

    def __post_init__(self) -> None:
        if self.hidden_size % self.num_attention_heads:
            raise ValueError(f"hidden_size={self.hidden_size} must be divisible by "
                             f"num_attention_heads={self.num_attention_heads}")
        if self.hidden_act not in _ACTIVATIONS:
            raise ValueError(f"hidden_act must be one of {sorted(_ACTIVATIONS)}, got {self.hidden_act!r}")

    @classmethod
    def base(cls, vocab_size: int = 30522) -> BertConfig:
        """BERT-base: L=12, H=768, A=12 (110M parameters)."""
        return cls(vocab_size=vocab_size)

    @classmethod
    def large(cls, vocab_size: int = 30522) -> BertConfig:
        """BERT-large: L=24, H=1024, A=16 (340M parameters)."""
        return cls(vocab_size=vocab_size, hidden_size=1024, num_hidden_layers=24, num_attention_heads=16,
                   intermediate_size=4096)

    @classmethod
    def tiny(cls, vocab_size: int = 1000) -> BertConfig:
        """The course's toy BERT: L=2, H=128, A=4, ff 512, 128 positions."""
        return cls(vocab_size=vocab_size, hidden_size=128, num_hidden_layers=2, num_attention_heads=4,
                   intermediate_size=512, max_position_embeddings=128)

    @classmethod
    def from_dict(cls, data: dict) -> BertConfig:
        """From a ``config.json`` dict: our fields are read, Hugging Face's other entries are ignored."""
        if data.get("position_embedding_type", "absolute") != "absolute":
            raise ValueError(f"only absolute position embeddings are supported, got "
                             f"{data['position_embedding_type']!r}")
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def num_parameters(self, pretraining_heads: bool = False) -> int:
        """Parameters from the formula: ≈ V·H + L·(4H² + 2·H·I) with I = 4H, i.e. ≈ V·H + 12·L·H².

        Embeddings (V + P + S)·H + 2H; per layer 4(H² + H) Q, K, V, out + 2·2H two LayerNorms
        + H·I + I + I·H + H FFN; pooler H² + H. The pre-training heads add the transform H² + H + 2H,
        the decoder bias V (its weight is the tied embedding) and NSP 2H + 2.
        """
        V, H, L, F_ = self.vocab_size, self.hidden_size, self.num_hidden_layers, self.intermediate_size
        P, S = self.max_position_embeddings, self.type_vocab_size
        embeddings = (V + P + S) * H + 2 * H
        layer = 4 * (H * H + H) + 2 * 2 * H + (H * F_ + F_) + (F_ * H + H)  # F_: intermediate_size
        pooler = H * H + H
        total = embeddings + L * layer + pooler
        if pretraining_heads:
            total += (H * H + H + 2 * H) + V + (2 * H + 2)
        return total


class BertEmbeddings(nn.Module):
    """Input = token + segment + position embeddings, then LayerNorm and dropout. (B, T) -> (B, T, H)."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        H = config.hidden_size
        self.word_embeddings = nn.Embedding(config.vocab_size, H, padding_idx=config.pad_token_id)
        self.position_embeddings = LearnedPositionalEmbedding(config.max_position_embeddings, H)
        self.token_type_embeddings = nn.Embedding(config.type_vocab_size, H)
        self.LayerNorm = nn.LayerNorm(H, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, input_ids: Tensor, token_type_ids: Tensor) -> Tensor:
        x = self.word_embeddings(input_ids) + self.token_type_embeddings(token_type_ids)  # (B, T, H)
        return self.dropout(self.LayerNorm(self.position_embeddings(x)))


class BertSelfAttention(nn.Module):
    """The Q, K, V projections and softmax(QKᵀ/√D)V per head; the output projection is ``BertSelfOutput``."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        H = config.hidden_size
        self.num_heads, self.head_dim = config.num_attention_heads, H // config.num_attention_heads
        self.dropout_p = config.attention_probs_dropout_prob
        self.query, self.key, self.value = nn.Linear(H, H), nn.Linear(H, H), nn.Linear(H, H)

    def forward(self, x: Tensor, mask: Tensor | None, need_weights: bool) -> tuple[Tensor, Tensor | None]:
        B, T, C = x.shape
        A, D = self.num_heads, self.head_dim
        q = self.query(x).view(B, T, A, D).transpose(1, 2)  # (B, A, T, D)
        k = self.key(x).view(B, T, A, D).transpose(1, 2)  # (B, A, T, D)
        v = self.value(x).view(B, T, A, D).transpose(1, 2)  # (B, A, T, D)
        p = self.dropout_p if self.training else 0.0
        if need_weights:
            y, weights = scaled_dot_product_attention(q, k, v, mask, dropout_p=p)
        else:
            y, weights = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p), None
        return y.transpose(1, 2).reshape(B, T, C), weights  # (B, T, H): heads concatenated


class BertSelfOutput(nn.Module):
    """Output projection, dropout, Add & Norm (post-LN): LayerNorm(x + dropout(dense(h)))."""

    def __init__(self, config: BertConfig, in_features: int) -> None:
        super().__init__()
        self.dense = nn.Linear(in_features, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, h: Tensor, x: Tensor) -> Tensor:
        return self.LayerNorm(x + self.dropout(self.dense(h)))


class BertAttention(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.self = BertSelfAttention(config)
        self.output = BertSelfOutput(config, config.hidden_size)

    def forward(self, x: Tensor, mask: Tensor | None, need_weights: bool) -> tuple[Tensor, Tensor | None]:
        h, weights = self.self(x, mask, need_weights)
        return self.output(h, x), weights


class BertIntermediate(nn.Module):
    """The FFN's first half: act(dense(x)), H -> intermediate_size."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.intermediate_size)
        self.act = _ACTIVATIONS[config.hidden_act]

    def forward(self, x: Tensor) -> Tensor:
        return self.act(self.dense(x))


class BertLayer(nn.Module):
    """One post-LN encoder layer: x = LN(x + attn(x)); x = LN(x + FFN(x))."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.attention = BertAttention(config)
        self.intermediate = BertIntermediate(config)
        self.output = BertSelfOutput(config, config.intermediate_size)  # the FFN's second half + Add & Norm

    def forward(self, x: Tensor, mask: Tensor | None, need_weights: bool) -> tuple[Tensor, Tensor | None]:
        x, weights = self.attention(x, mask, need_weights)
        return self.output(self.intermediate(x), x), weights


class BertEncoder(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.layer = nn.ModuleList(BertLayer(config) for _ in range(config.num_hidden_layers))

    def forward(self, x: Tensor, mask: Tensor | None, need_weights: bool, need_states: bool = False
                ) -> tuple[Tensor, list[Tensor], list[Tensor]]:
        """x (B, T, H) -> the last layer, each layer's weights (or Nones) and, when asked, the L + 1 states."""
        weights, states = [], [x] if need_states else []
        for layer in self.layer:
            x, w = layer(x, mask, need_weights)
            weights.append(w)
            if need_states:
                states.append(x)
        return x, weights, states


class BertPooler(nn.Module):
    """tanh(dense(h_[CLS])): the sentence vector that NSP and classification read. (B, T, H) -> (B, H)."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)

    def forward(self, x: Tensor) -> Tensor:
        return torch.tanh(self.dense(x[:, 0]))


class BertModelOutput(NamedTuple):
    last_hidden_state: Tensor  # (B, T, H)
    pooler_output: Tensor  # (B, H)
    attentions: list[Tensor] | None  # one (B, A, T, T) per layer when output_attentions=True
    hidden_states: list[Tensor] | None = None  # L + 1 (B, T, H), embeddings first, when output_hidden_states=True


def _init_weights(module: nn.Module, std: float) -> None:
    """BERT's initialisation: N(0, std²) weights, zero biases, LayerNorm 1 and 0."""
    if isinstance(module, (nn.Linear, nn.Embedding)):
        nn.init.normal_(module.weight, std=std)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)
        if isinstance(module, nn.Embedding) and module.padding_idx is not None:
            with torch.no_grad():
                module.weight[module.padding_idx].zero_()
    elif isinstance(module, LearnedPositionalEmbedding):
        nn.init.normal_(module.weight, std=std)
    elif isinstance(module, nn.LayerNorm):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)


class BertModel(nn.Module):
    """The BERT encoder: embeddings, ``num_hidden_layers`` post-LN layers, pooler on [CLS].

    ``config.is_decoder=True`` reads left to right (notebook 12's ablation): every layer gets the causal mask,
    and the pooler reads the *last* real token, the only one that has read the whole input (GPT's classifier
    does the same; under the causal mask [CLS] sees only itself). ``top`` (None by default) is a module run on
    the last layer, ``top(x (B, T, H), attention_mask (B, T)) -> (B, T, H)``: ``with_bilstm`` puts a BiLSTM there.
    """

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.config = config
        self.embeddings = BertEmbeddings(config)
        self.encoder = BertEncoder(config)
        self.pooler = BertPooler(config)
        self.top: nn.Module | None = None
        self.apply(lambda m: _init_weights(m, config.initializer_range))

    def check_inputs(self, input_ids: Tensor, token_type_ids: Tensor | None = None,
                     attention_mask: Tensor | None = None) -> None:
        """Raise, naming the argument, unless the inputs fit this model (shape, dtype, ids in range, positions).

        ``forward`` calls it once per call; it reads the ids and the mask once each (``benchmarks/bench_checks.py``).
        """
        c = self.config
        check_token_ids(input_ids, c.vocab_size, "input_ids", c.max_position_embeddings)
        if token_type_ids is not None:
            check_labels(token_type_ids, c.type_vocab_size, "token_type_ids", tuple(input_ids.shape),
                         "the number of segment types (config.type_vocab_size)", shape_name="the shape of input_ids")
        check_attention_mask(attention_mask, input_ids)
        if c.is_decoder and attention_mask is not None and bool((attention_mask[:, 1:] > attention_mask[:, :-1]).any()):
            raise ValueError("attention_mask must be right-padded (1s, then 0s) when config.is_decoder: the pooler "
                             "reads the last real token at position sum(mask) - 1; put the padding at the end")

    def forward(self, input_ids: Tensor, token_type_ids: Tensor | None = None, attention_mask: Tensor | None = None,
                output_attentions: bool = False, output_hidden_states: bool = False) -> tuple[BertModelOutput, None]:
        """input_ids, token_type_ids, attention_mask (B, T) (mask: 1 = real token) -> (``BertModelOutput``, None)."""
        if should_check():
            self.check_inputs(input_ids, token_type_ids, attention_mask)
        B, T = input_ids.shape
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        if self.config.is_decoder:
            if attention_mask is None:
                attention_mask = torch.ones_like(input_ids)
            mask = combine_masks(causal_mask(T, device=input_ids.device), padding_mask(attention_mask))  # (B, 1, T, T)
        else:  # no padding, no mask: torch's fused attention then takes its faster unmasked path
            mask = None if attention_mask is None or bool(attention_mask.all()) else padding_mask(attention_mask)
        x = self.embeddings(input_ids, token_type_ids)  # (B, T, H)
        with checked_inputs():  # the layers need not check the mask again
            x, weights, states = self.encoder(x, mask, output_attentions, output_hidden_states)
        if self.top is not None:
            x = self.top(x, torch.ones_like(input_ids) if attention_mask is None else attention_mask)
        if self.config.is_decoder:
            last = attention_mask.long().sum(1).clamp(min=1) - 1  # (B,): the last real token
            pooled = self.pooler(x[torch.arange(B, device=x.device), last][:, None])  # (B, H)
        else:
            pooled = self.pooler(x)
        return BertModelOutput(x, pooled, weights if output_attentions else None,
                               states if output_hidden_states else None), None

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


class BertPredictionHeadTransform(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.act = _ACTIVATIONS[config.hidden_act]
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def forward(self, x: Tensor) -> Tensor:
        return self.LayerNorm(self.act(self.dense(x)))


class BertLMPredictionHead(nn.Module):
    """MLM head: transform, then the tied decoder Eᵀ plus a per-token bias. (B, T, H) -> (B, T, V)."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.transform = BertPredictionHeadTransform(config)
        self.decoder = nn.Linear(config.hidden_size, config.vocab_size, bias=False)
        self.bias = nn.Parameter(torch.zeros(config.vocab_size))

    def forward(self, x: Tensor) -> Tensor:
        return self.decoder(self.transform(x)) + self.bias


class BertPreTrainingHeads(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.predictions = BertLMPredictionHead(config)
        self.seq_relationship = nn.Linear(config.hidden_size, 2)  # 0 = IsNext, 1 = NotNext


class BertPreTrainingOutput(NamedTuple):
    prediction_logits: Tensor  # (B, T, V)
    seq_relationship_logits: Tensor  # (B, 2)
    last_hidden_state: Tensor  # (B, T, H)
    attentions: list[Tensor] | None


class BertForPreTraining(nn.Module):
    """BERT with the masked-LM head and the NSP head. The decoder is tied to the word embeddings, as in
    BERT, unless ``config.tie_word_embeddings`` is False: then it has a (V, H) weight of its own."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.config = config
        self.bert = BertModel(config)
        self.cls = BertPreTrainingHeads(config)
        self.cls.apply(lambda m: _init_weights(m, config.initializer_range))
        if config.tie_word_embeddings:
            self.cls.predictions.decoder.weight = self.bert.embeddings.word_embeddings.weight  # tied: (V, H)

    def forward(self, input_ids: Tensor, token_type_ids: Tensor | None = None, attention_mask: Tensor | None = None,
                labels: Tensor | None = None, next_sentence_label: Tensor | None = None,
                output_attentions: bool = False) -> tuple[BertPreTrainingOutput, Tensor | None]:
        """labels (B, T): token ids at masked positions, -100 elsewhere; next_sentence_label (B,): 0 IsNext, 1 NotNext.

        The loss is the sum of the MLM and NSP cross-entropies of the targets given (None if none).
        """
        out, _ = self.bert(input_ids, token_type_ids, attention_mask, output_attentions)  # checks ids and mask
        if should_check():
            self.check_targets(input_ids, labels, next_sentence_label)
        mlm = self.cls.predictions(out.last_hidden_state)  # (B, T, V)
        nsp = self.cls.seq_relationship(out.pooler_output)  # (B, 2)
        losses = []
        if labels is not None:  # a batch with no selected position has no MLM term (not NaN: see masked_lm_loss)
            selected = labels.flatten() != -100
            losses.append(F.cross_entropy(mlm.flatten(0, 1)[selected], labels.flatten()[selected])
                          if bool(selected.any()) else mlm.sum() * 0.0)
        if next_sentence_label is not None:
            losses.append(F.cross_entropy(nsp, next_sentence_label))
        loss = sum(losses) if losses else None
        return BertPreTrainingOutput(mlm, nsp, out.last_hidden_state, out.attentions), loss

    def check_targets(self, input_ids: Tensor, labels: Tensor | None = None,
                      next_sentence_label: Tensor | None = None) -> None:
        """Raise, naming the argument, unless labels (B, T) hold vocabulary ids or -100 and next_sentence_label
        (B,) holds 0 or 1. Run after ``self.bert`` has checked ``input_ids``."""
        if labels is not None:
            check_labels(labels, self.config.vocab_size, "labels", tuple(input_ids.shape),
                         "the vocabulary size (config.vocab_size)", ignore_index=-100,
                         shape_name="the shape of input_ids")
        if next_sentence_label is not None:
            check_labels(next_sentence_label, 2, "next_sentence_label", (len(input_ids),),
                         "the number of NSP classes (0 = IsNext, 1 = NotNext)")

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())  # counts the tied decoder weight once
