"""A decoder-only causal Transformer language model (GPT), its sampling, and the cached toy-world GPT.

GPT is the course's Transformer encoder stack with one change: every layer gets the **causal mask**, so
position t attends to positions 0..t only and its output can predict token t + 1. Nothing new is
written for attention; the blocks are ``course_lib.transformer.TransformerEncoderLayer``, post-LN by
default as in GPT-1 and the course's BERT (so GPT and BERT differ here only in the mask and the
objective); pre-LN (GPT-2) is ``GPTConfig(norm_first=True)``, and adds a final LayerNorm.

    token ids (B, T) -> token + learned position embeddings (B, T, H) -> L masked self-attention blocks
    (each ending in a LayerNorm) -> logits (B, T, V) through the token embedding matrix (tied output layer)

Measured on the toy world (1 CPU thread, batches of 64 sentences, AdamW, linear decay; test perplexity
over the exact bound): H=64, L=2, A=4, FFN 256, 2400 steps at lr 5e-3 reached 1.033 (post-LN) and 1.036
(pre-LN) in about 55 s of CPU time; H=96 (1800 steps) 1.06, H=128 (1200-1400 steps) 1.06-1.08, H=48
(3000 steps) 1.04 but 70 s; lr 8e-3 was worse (1.05, 1.09). In 2-layer models post-LN matched or beat
pre-LN in 3 of 4 pairs (once, H=128 at lr 5e-3, pre-LN lagged: 1.19 against 1.08).

It answers the language models' one question, ``token_logprobs(sentences)``, exactly like
``course_lib.lm.LSTMLM``, so ``course_lib.lm.perplexity`` scores both, and it trains on the same
``sentence_batches`` with ``course_lib.train.fit`` (``forward`` returns ``(logits, loss)``).

>>> model = GPT(GPTConfig.tiny(vocab_size=20))
>>> logits, loss = model(torch.tensor([[2, 7, 8]]), targets=torch.tensor([[7, 8, 3]]))
>>> logits.shape
torch.Size([1, 3, 20])
>>> generate(model, [2, 7], max_new_tokens=3, temperature=0).shape    # greedy
torch.Size([5])
>>> model, history = pretrained_gpt(seed=0)                # trained once, then from the cache  # doctest: +SKIP
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from course_lib.arguments import check_attention_mask, check_labels, check_token_ids, checked_inputs, should_check
from course_lib.attention import causal_mask, combine_masks
from course_lib.core import History, TrainConfig, pretrained
from course_lib.lm import LMDataConfig, LMRecipe, SentenceLM
from course_lib.text import Vocab
from course_lib.transformer import TransformerEncoder


@dataclass
class GPTConfig:
    vocab_size: int = 811  # V: len(vocab), the toy world's words + 7 special tokens (pretrained_gpt sets it)
    max_position_embeddings: int = 64  # P: learned positions; the toy world's longest sentence + <bos> is 12
    hidden_size: int = 64  # H: width of every block and of the tied embedding (64 beat 96 and 128 in a CPU minute)
    num_layers: int = 2  # L: masked self-attention blocks (3, with fewer steps in the same time, did worse)
    num_heads: int = 4  # A: heads per block; each has D = H / A
    intermediate_size: int = 256  # FFN width, 4H
    dropout: float = 0.0  # on embeddings, attention weights and sub-layer outputs (under 2 epochs of data: none)
    activation: str = "gelu"  # "gelu" (GPT) or "relu"
    norm_first: bool = False  # post-LN (GPT-1, BERT); True: pre-LN (GPT-2) with a final LayerNorm
    layer_norm_eps: float = 1e-5
    initializer_range: float = 0.02  # std of the normal initialisation of every weight matrix (GPT-2)
    pad_token_id: int = 0  # Vocab.pad_id: targets equal to it are not predicted

    def __post_init__(self) -> None:
        for name in ("vocab_size", "max_position_embeddings", "hidden_size", "num_layers", "num_heads",
                     "intermediate_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if self.hidden_size % self.num_heads:
            raise ValueError(f"hidden_size={self.hidden_size} must be divisible by num_heads={self.num_heads}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.activation not in ("gelu", "relu"):
            raise ValueError(f"activation must be 'gelu' or 'relu', got {self.activation!r}")
        if not self.initializer_range > 0:
            raise ValueError(f"initializer_range must be > 0, got {self.initializer_range}")
        if not 0 <= self.pad_token_id < self.vocab_size:
            raise ValueError(f"pad_token_id={self.pad_token_id} is not an id of a vocabulary of {self.vocab_size}")

    @classmethod
    def tiny(cls, vocab_size: int = 20) -> GPTConfig:
        """For tests: L=2, H=32, A=4, FFN 64, 16 positions."""
        return cls(vocab_size=vocab_size, max_position_embeddings=16, hidden_size=32, num_layers=2, num_heads=4,
                   intermediate_size=64)


class GPT(SentenceLM):
    """p(w_t | w_0 .. w_{t-1}) for every position at once, from causal self-attention.

    ``forward(input_ids (B, T), targets (B, T) | None, attention_mask (B, T) | None) -> (logits (B, T, V),
    loss | None)``; targets equal to ``config.pad_token_id`` do not count in the mean cross-entropy.
    ``vocab`` (optional) lets ``token_logprobs`` and ``sample`` work on words.
    """

    def __init__(self, config: GPTConfig, vocab: Vocab | None = None) -> None:
        super().__init__()
        self.config, self.vocab = config, vocab
        if vocab is not None and len(vocab) != config.vocab_size:
            raise ValueError(f"config.vocab_size={config.vocab_size} but the vocabulary has {len(vocab)} tokens")
        H = config.hidden_size
        self.token_embeddings = nn.Embedding(config.vocab_size, H)
        self.position_embeddings = nn.Embedding(config.max_position_embeddings, H)
        self.dropout = nn.Dropout(config.dropout)
        # the encoder stack; the causal mask makes it a decoder. Pre-LN adds the final LayerNorm (blocks.norm).
        self.blocks = TransformerEncoder(config.num_layers, H, config.num_heads, config.intermediate_size,
                                         config.dropout, config.activation, config.norm_first, config.layer_norm_eps)
        self.lm_head = nn.Linear(H, config.vocab_size, bias=False)
        self.apply(self._init_weights)
        for name, p in self.named_parameters():  # GPT-2: residual projections scaled by 1/sqrt(2L)
            if name.endswith(("self_attn.out.weight", "ffn.linear2.weight")):
                nn.init.normal_(p, 0.0, config.initializer_range / math.sqrt(2 * config.num_layers))
        self.lm_head.weight = self.token_embeddings.weight  # tied: one (V, H) matrix reads words and scores them

    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, 0.0, self.config.initializer_range)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def check_inputs(self, input_ids: Tensor, attention_mask: Tensor | None = None,
                     targets: Tensor | None = None) -> None:
        """Raise, naming the argument, unless the inputs fit: ids (B, T) in the vocabulary and within the learned
        positions, a 0/1 mask and targets of their shape. ``forward`` calls it once per call."""
        c = self.config
        check_token_ids(input_ids, c.vocab_size, "input_ids", c.max_position_embeddings)
        check_attention_mask(attention_mask, input_ids)
        if targets is not None:
            check_labels(targets, c.vocab_size, "targets", tuple(input_ids.shape),
                         "the vocabulary size (config.vocab_size)", shape_name="the shape of input_ids")

    def position_ids(self, input_ids: Tensor, attention_mask: Tensor | None = None) -> Tensor:
        """(B, T) positions 0, 1, ...; with an attention_mask they count real tokens only (left padding)."""
        B, T = input_ids.shape
        if T > self.config.max_position_embeddings:
            raise ValueError(f"sequence of length {T} but only {self.config.max_position_embeddings} learned "
                             "positions (config.max_position_embeddings)")
        if attention_mask is None:
            return torch.arange(T, device=input_ids.device).expand(B, T)
        return (attention_mask.long().cumsum(-1) - 1).clamp(min=0)  # (B, T)

    def attention_mask_4d(self, T: int, attention_mask: Tensor | None, device: torch.device) -> Tensor:
        """Causal AND "the key is a real token" (B|1, 1, T, T); every query may still see itself.

        Letting a padding query attend to itself keeps its softmax defined; real queries never see padding.
        """
        causal = causal_mask(T, device=device)  # (T, T)
        if attention_mask is None:
            return causal
        keys = attention_mask.bool()[:, None, None, :]  # (B, 1, 1, T)
        itself = torch.eye(T, dtype=torch.bool, device=device)  # (T, T)
        return combine_masks(causal, keys | itself)  # (B, 1, T, T)

    def hidden_states(self, input_ids: Tensor, attention_mask: Tensor | None = None,
                      need_weights: bool = False) -> tuple[Tensor, list[Tensor] | None]:
        """input_ids (B, T) -> the top block's output after the final LayerNorm (B, T, H), and the weights."""
        if should_check():  # once per call: not again in the blocks, nor at each step of ``generate``
            self.check_inputs(input_ids, attention_mask)
        B, T = input_ids.shape
        positions = self.position_ids(input_ids, attention_mask)  # (B, T)
        x = self.dropout(self.token_embeddings(input_ids) + self.position_embeddings(positions))  # (B, T, H)
        with checked_inputs():  # the blocks need not check again what was checked here
            return self.blocks(x, self.attention_mask_4d(T, attention_mask, input_ids.device), need_weights)

    def layer_states(self, input_ids: Tensor, attention_mask: Tensor | None = None) -> list[Tensor]:
        """input_ids (B, T) -> L + 1 tensors (B, T, H): the embeddings, then each block's output (the last one
        before the final LayerNorm of pre-LN). What a probe reads layer by layer, as ``BiLM.layers``."""
        if should_check():
            self.check_inputs(input_ids, attention_mask)
        T = input_ids.shape[1]
        x = self.dropout(self.token_embeddings(input_ids) + self.position_embeddings(
            self.position_ids(input_ids, attention_mask)))  # (B, T, H)
        mask, out = self.attention_mask_4d(T, attention_mask, input_ids.device), [x]
        with checked_inputs():
            for block in self.blocks.layers:
                x, _ = block(x, mask)
                out.append(x)
        return out

    def loss(self, logits: Tensor, targets: Tensor) -> Tensor:
        """Mean cross-entropy (nats per predicted token) over the targets that are not padding."""
        return F.cross_entropy(logits.flatten(0, 1).float(), targets.flatten(), ignore_index=self.config.pad_token_id)

    def forward(self, input_ids: Tensor, targets: Tensor | None = None,
                attention_mask: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        if should_check():
            self.check_inputs(input_ids, attention_mask, targets)
        with checked_inputs():
            h, _ = self.hidden_states(input_ids, attention_mask)  # (B, T, H)
        logits = self.lm_head(h)  # (B, T, V)
        return logits, (None if targets is None else self.loss(logits, targets))

    @property
    def max_positions(self) -> int:
        return self.config.max_position_embeddings

    @property
    def pad_token_id(self) -> int:
        return self.config.pad_token_id


@dataclass(frozen=True)
class GPTSettings(LMRecipe):
    """The toy world's GPT of notebook 12, on the LSTM LM's data (so their perplexities compare).

    AdamW with warm-up (min(100, steps/10)), decayed linearly to 0, clipped at 1. At the defaults (H=64, L=2,
    2400 steps at lr 5e-3) it trains in about 55 s on one CPU thread and reached test perplexity 4.89 against the
    exact bound 4.74 (1.033x).
    """

    name: ClassVar[str] = "gpt"
    model_class: ClassVar[type[nn.Module]] = GPT
    model: GPTConfig = field(default_factory=GPTConfig)
    data: LMDataConfig | None = None  # None: the toy world with this seed (LMDataConfig(seed=seed))
    steps: int = 2400
    lr: float = 5e-3
    seed: int = 0
    threads: int = 1

    def train_config(self, device: torch.device | str = "auto", progress: bool = True) -> TrainConfig:
        return TrainConfig(steps=self.steps, lr=self.lr, warmup_steps=min(100, self.steps // 10), schedule="linear",
                           grad_clip=1.0, eval_every=max(1, self.steps // 6), monitor="val_loss", seed=self.seed,
                           progress=progress, desc="GPT", device=device)


def gpt_layer_features(model: GPT, sentences, positions, batch_size: int = 256) -> list[Tensor]:
    """Frozen GPT features of one word per sentence, ``sentences[i][positions[i]]``: L + 1 tensors (N, H), the
    embedding layer first (``GPT.layer_states``). The model reads ``<bos>`` and the words up to the end, but
    with its causal mask the feature of a word depends only on the words up to it."""
    if len(sentences) != len(positions):
        raise ValueError(f"{len(sentences)} sentences but {len(positions)} positions: give one position per sentence")
    vocab, was_training = model._words(), model.training
    model.eval()
    per_layer: list[list[Tensor]] = []
    for start in range(0, len(sentences), batch_size):
        chunk, where = sentences[start:start + batch_size], positions[start:start + batch_size]
        for i, (s, k) in enumerate(zip(chunk, where, strict=True)):
            if not 0 <= k < len(s):
                raise ValueError(f"position {k} is outside sentence {start + i} ({len(s)} words)")
        rows = [[vocab.bos_id, *vocab.encode(list(s))] for s in chunk]
        T = max(map(len, rows))
        ids = torch.tensor([r + [model.config.pad_token_id] * (T - len(r)) for r in rows],
                           device=model.token_embeddings.weight.device)  # (B, T)
        mask = ids != model.config.pad_token_id
        with torch.no_grad():
            states = model.layer_states(ids, mask)
        index = torch.arange(len(chunk)), torch.tensor(where) + 1  # +1: <bos> comes first
        if not per_layer:
            per_layer = [[] for _ in states]
        for j, h in enumerate(states):
            per_layer[j].append(h[index].cpu())
    model.train(was_training)
    return [torch.cat(h) for h in per_layer]


def pretrained_gpt(settings: GPTSettings | None = None, device: str = "auto",
                   progress: bool = True) -> tuple[GPT, History]:
    """The GPT that ``settings`` describes (default: notebook 12's), trained once, then read from the cache."""
    return pretrained(GPTSettings() if settings is None else settings, device, progress)
