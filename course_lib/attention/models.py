"""Small attention models for notebooks 05 and 06, with the toy-world tasks they learn.

- Notebook 05, *sense lookup*: a text of two polysemous toy-world sentences and a question that
  points at one polysemous word of it ("which sense does *crane* have here, at position 3?").
  ``PoolingClassifier`` pools the text into one vector, by a plain mean or by attention with the
  asked-about word as the query, then classifies the sense with a linear or an MLP head.
  The task is built so that the answer needs query-dependent weights: in half of the texts both
  sentences are about the *same* word, so the bag of words holds two cues of that word and only
  where they stand says which is the asked-about one's. Every word's vector carries its offset from
  the asked-about word (a learned vector per offset); a mean adds those offsets up apart from the
  words and loses which cue stood where, a query can weigh the words by them.
- Notebook 06, *sense tagging*: ``SelfAttentionTagger``, a stack of ``MultiHeadAttention`` layers
  (self-attention with a residual connection, no positions) that tags every token with its sense
  ("-" for a word that is not polysemous). Its heads learn to look from a polysemous word to its cue.

Both models return ``(logits, loss)`` (``loss=None`` without labels), as ``course_lib.train.fit`` expects.

>>> texts = sense_lookup_examples(sense_examples(toyworld_corpus("train", num_documents=200)), 100)
>>> e = texts[0]; e.tokens[e.position], e.tokens[e.cue_position]   # doctest: +SKIP
('crane', 'wades')
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from course_lib.arguments import check_attention_mask, check_labels, check_token_ids, checked_inputs, should_check
from course_lib.attention.functions import padding_mask, scaled_dot_product_attention
from course_lib.attention.multi_head import MultiHeadAttention
from course_lib.data.corpus import Sentence
from course_lib.data.tasks import SenseExample
from course_lib.text import Vocab, pad_batch

NO_SENSE = "-"  # the tag of a token that is not polysemous
LOOKUP_KINDS = ("other word", "same word, same sense", "same word, other sense")


@dataclass
class SenseLookupExample:
    """Two sentences as one text and a question about the polysemous word at ``position``.

    ``label`` indexes that word's senses (as in ``SenseExample``); ``cue_position`` is its cue's
    position in ``tokens``. ``other_word`` / ``other_sense`` / ``other_cue_position`` describe the
    polysemous word of the other sentence, which may be the same word (``kind`` names the three cases).
    """

    tokens: list[str]
    query: str
    label: int
    sense: str
    position: int
    cue_position: int
    other_word: str
    other_sense: str
    other_cue_position: int

    @property
    def kind(self) -> str:
        """One of ``LOOKUP_KINDS``: is the other sentence about another word, or the same word in which sense?"""
        if self.other_word != self.query:
            return LOOKUP_KINDS[0]
        return LOOKUP_KINDS[1] if self.other_sense == self.sense else LOOKUP_KINDS[2]


def sense_lookup_examples(examples: Sequence[SenseExample], num_examples: int, seed: int = 0,
                          same_word: float = 0.5) -> list[SenseLookupExample]:
    """``num_examples`` texts: a polysemous sentence and another one, in random order, asked about the first.

    With probability ``same_word`` the other sentence is about the same polysemous word (another sentence
    of it, whose sense follows the data: about half the time the other sense); otherwise about another
    word. A same-word text holds two cues of the asked-about word: only the positions say which is its own.
    """
    if not 0.0 <= same_word <= 1.0:
        raise ValueError(f"same_word must be a share between 0 and 1, got {same_word}")
    by_word: dict[str, list[int]] = defaultdict(list)
    for i, e in enumerate(examples):
        by_word[e.word].append(i)
    if same_word < 1.0 and len(by_word) < 2:
        raise ValueError("sense lookup needs polysemous sentences of at least two different words "
                         f"(got only {sorted(by_word)}), or same_word=1.0")
    if same_word > 0.0 and all(len(ids) < 2 for ids in by_word.values()):
        raise ValueError("same-word texts need two sentences of one polysemous word; every word has one: "
                         "give more sentences, or same_word=0.0")
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < num_examples:
        a = examples[rng.integers(len(examples))]
        if rng.random() < same_word:
            if len(by_word[a.word]) < 2:
                continue  # this word has a single sentence: draw again
            b = a
            while b is a:
                b = examples[by_word[a.word][rng.integers(len(by_word[a.word]))]]
        else:
            b = a
            while b.word == a.word:
                b = examples[rng.integers(len(examples))]
        a_first = rng.random() < 0.5
        tokens = a.tokens + b.tokens if a_first else b.tokens + a.tokens
        shift_a, shift_b = (0, len(a.tokens)) if a_first else (len(b.tokens), 0)
        out.append(SenseLookupExample(list(tokens), a.word, a.label, a.sense, a.position + shift_a,
                                      a.cue_position + shift_a, b.word, b.sense, b.cue_position + shift_b))
    return out


def lookup_batch(examples: Sequence[SenseLookupExample], vocab: Vocab) -> dict[str, Tensor]:
    """``input_ids``, ``attention_mask`` (B, T), ``query_positions`` (B,) and ``labels`` (B,) for ``PoolingClassifier``."""
    input_ids, attention_mask = pad_batch([vocab.encode(e.tokens) for e in examples], vocab.pad_id)
    return {"input_ids": input_ids, "attention_mask": attention_mask,
            "query_positions": torch.tensor([e.position for e in examples]),
            "labels": torch.tensor([e.label for e in examples])}


class PoolingClassifier(nn.Module):
    """Embed the words, pool them into one vector (mean or attention), classify [pooled; query] by ``head``.

    Each word's vector is its embedding plus a learned vector for its offset from the asked-about word
    (clipped to ±``max_offset``). ``pooling="attention"``: the asked-about word's vector through W_q is the
    query, every word's vector through W_k a key and W_v a value, ``softmax(q·k / √D)`` the pooling
    weights. ``pooling="mean"``: every real word gets the weight 1 / length, whatever the query.
    ``head="linear"`` is one linear layer on [pooled; query]; ``head="mlp"`` a hidden ReLU layer of
    ``hidden`` units first, which can combine the pooled vector with the query any way it likes.
    """

    def __init__(self, vocab_size: int, dim: int = 32, num_classes: int = 2, pooling: str = "attention",
                 head: str = "linear", hidden: int = 64, max_offset: int = 8) -> None:
        super().__init__()
        if pooling not in ("mean", "attention"):
            raise ValueError(f"pooling must be 'mean' or 'attention', got {pooling!r}")
        if head not in ("linear", "mlp"):
            raise ValueError(f"head must be 'linear' or 'mlp', got {head!r}")
        self.pooling, self.head, self.max_offset = pooling, head, max_offset
        self.embed = nn.Embedding(vocab_size, dim, padding_idx=0)
        self.offset = nn.Embedding(2 * max_offset + 1, dim)  # where a word stands, seen from the asked-about word
        if pooling == "attention":
            self.query = nn.Linear(dim, dim, bias=False)  # W_q
            self.key = nn.Linear(dim, dim, bias=False)  # W_k
        self.value = nn.Linear(dim, dim)  # W_v: what each word contributes to the pooled vector
        if head == "linear":
            self.classify = nn.Linear(2 * dim, num_classes)
        else:
            self.classify = nn.Sequential(nn.Linear(2 * dim, hidden), nn.ReLU(), nn.Linear(hidden, num_classes))

    def word_vectors(self, input_ids: Tensor, query_positions: Tensor) -> Tensor:
        """(B, T, dim): each word's embedding plus the vector of its offset from the asked-about word."""
        T = input_ids.shape[1]
        offsets = torch.arange(T, device=input_ids.device)[None, :] - query_positions[:, None]  # (B, T)
        offsets = offsets.clamp(-self.max_offset, self.max_offset) + self.max_offset
        return self.embed(input_ids) + self.offset(offsets)

    def pool(self, input_ids: Tensor, attention_mask: Tensor, query_positions: Tensor) -> tuple[Tensor, Tensor]:
        """The pooled vector (B, dim) and the pooling weights (B, T): rows sum to 1, padding gets 0."""
        if should_check():
            self.check_inputs(input_ids, attention_mask, query_positions)
        return self._pool(self.word_vectors(input_ids, query_positions), attention_mask, query_positions)

    def _pool(self, x: Tensor, attention_mask: Tensor, query_positions: Tensor) -> tuple[Tensor, Tensor]:
        values = self.value(x)  # (B, T, dim)
        if self.pooling == "attention":
            q = self.query(x[torch.arange(len(x)), query_positions])[:, None, :]  # (B, 1, dim): one query per text
            pooled, weights = scaled_dot_product_attention(q, self.key(x), values, mask=padding_mask(attention_mask))
            return pooled[:, 0], weights[:, 0]  # (B, dim), (B, T)
        keep = attention_mask.to(x.dtype)  # (B, T)
        weights = keep / keep.sum(dim=1, keepdim=True)  # (B, T): 1 / length on every real word
        return (weights[:, :, None] * values).sum(dim=1), weights

    def forward(self, input_ids: Tensor, attention_mask: Tensor, query_positions: Tensor,
                labels: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        """-> logits (B, num_classes), cross-entropy loss or None."""
        if should_check():
            self.check_inputs(input_ids, attention_mask, query_positions)
            if labels is not None:
                check_labels(labels, self.num_classes, "labels", (len(input_ids),), "num_classes")
        x = self.word_vectors(input_ids, query_positions)  # (B, T, dim)
        pooled, _ = self._pool(x, attention_mask, query_positions)
        query = x[torch.arange(len(x), device=x.device), query_positions]  # (B, dim): the asked-about word
        logits = self.classify(torch.cat([pooled, query], dim=-1))  # (B, num_classes)
        loss = None if labels is None else F.cross_entropy(logits, labels)
        return logits, loss

    @property
    def num_classes(self) -> int:
        return self.classify.out_features if self.head == "linear" else self.classify[-1].out_features

    def check_inputs(self, input_ids: Tensor, attention_mask: Tensor, query_positions: Tensor) -> None:
        """Raise, naming the argument, unless the ids, the mask and one real position per text fit."""
        check_token_ids(input_ids, self.embed.num_embeddings, "input_ids")
        check_attention_mask(attention_mask, input_ids)
        B, T = input_ids.shape
        check_labels(query_positions, T, "query_positions", (B,), "the text length T",
                     shape_name="one position per text")
        if not bool(attention_mask[torch.arange(B), query_positions].all()):
            raise ValueError("query_positions must point at real words, not at padding (attention_mask 0 there)")


def sense_tagging_labels(sentences: Sequence[Sentence]) -> list[str]:
    """The tag set: ``NO_SENSE`` first, then every sense seen, sorted."""
    senses = sorted({s for sentence in sentences for s in (sentence.senses or []) if s is not None})
    return [NO_SENSE, *senses]


def sense_tagging_batch(sentences: Sequence[Sentence], vocab: Vocab, labels: Sequence[str]) -> dict[str, Tensor]:
    """``input_ids``, ``attention_mask`` and ``labels`` (B, T; -100 on padding) for ``SelfAttentionTagger``."""
    index = {label: i for i, label in enumerate(labels)}
    input_ids, attention_mask = pad_batch([vocab.encode(s.tokens) for s in sentences], vocab.pad_id)
    tags = torch.full_like(input_ids, -100)  # -100: ignored by cross_entropy
    for i, s in enumerate(sentences):
        tags[i, : len(s.tokens)] = torch.tensor([index[x or NO_SENSE] for x in (s.senses or [None] * len(s))])
    return {"input_ids": input_ids, "attention_mask": attention_mask, "labels": tags}


class SelfAttentionTagger(nn.Module):
    """Embeddings, then ``num_layers`` x (x + MultiHeadAttention(x, x, x)), then a tag per token.

    No positions: the model sees each sentence as a bag of words (notebook 07 adds word order).
    ``attention(...)`` returns every layer's weights for the attention explorer.
    """

    def __init__(self, vocab_size: int, num_labels: int, d_model: int = 64, num_heads: int = 4,
                 num_layers: int = 2) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab_size, d_model, padding_idx=0)
        self.layers = nn.ModuleList(MultiHeadAttention(d_model, num_heads) for _ in range(num_layers))
        self.classify = nn.Linear(d_model, num_labels)

    def encode(self, input_ids: Tensor, attention_mask: Tensor,
               need_weights: bool = False) -> tuple[Tensor, list[Tensor]]:
        """Hidden states (B, T, H) and, when asked, each layer's weights (B, A, T, T)."""
        if should_check():  # once here, not in each layer
            check_token_ids(input_ids, self.embed.num_embeddings, "input_ids")
            check_attention_mask(attention_mask, input_ids)
        mask = padding_mask(attention_mask)  # (B, 1, 1, T): no query looks at padding
        x = self.embed(input_ids)  # (B, T, H)
        weights = []
        with checked_inputs():
            for layer in self.layers:
                y, w = layer(x, x, x, mask=mask, need_weights=need_weights)
                x = x + y  # residual: a token keeps its own identity beside what it gathered
                if need_weights:
                    weights.append(w)
        return x, weights

    def forward(self, input_ids: Tensor, attention_mask: Tensor,
                labels: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        """-> logits (B, T, num_labels), cross-entropy over real tokens or None."""
        x, _ = self.encode(input_ids, attention_mask)  # checks the ids and the mask
        if labels is not None and should_check():
            check_labels(labels, self.classify.out_features, "labels", tuple(input_ids.shape), "num_labels",
                         ignore_index=-100, shape_name="the shape of input_ids")
        logits = self.classify(x)  # (B, T, num_labels)
        loss = None if labels is None else F.cross_entropy(logits.flatten(0, 1), labels.flatten(), ignore_index=-100)
        return logits, loss

    @torch.no_grad()
    def attention(self, input_ids: Tensor, attention_mask: Tensor) -> list[Tensor]:
        """Every layer's attention weights, a list of (B, A, T, T) (eval mode, no gradients)."""
        was_training = self.training
        self.eval()
        _, weights = self.encode(input_ids, attention_mask, need_weights=True)
        self.train(was_training)
        return weights
