"""Small attention models for notebooks 05 and 06, with the toy-world tasks they learn.

- Notebook 05, *sense lookup*: a text of two polysemous toy-world sentences and a query word
  ("which sense does *crane* have here?"). ``PoolingClassifier`` pools the text into one vector,
  either by a plain mean or by attention with the query word as the query, then classifies the
  sense. A mean cannot depend on the query, so it mixes in the cue of the other sentence.
- Notebook 06, *sense tagging*: ``SelfAttentionTagger``, a stack of ``MultiHeadAttention`` layers
  (self-attention with a residual connection, no positions) that tags every token with its sense
  ("-" for a word that is not polysemous). Its heads learn to look from a polysemous word to its cue.

Both models return ``(logits, loss)`` (``loss=None`` without labels), as ``course_lib.train.fit`` expects.

>>> examples = sense_lookup_examples(sense_examples(toyworld_corpus("train", num_documents=200)), 100)
>>> examples[0].query, examples[0].tokens[examples[0].cue_position]   # doctest: +SKIP
('crane', 'wades')
"""

from __future__ import annotations

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


@dataclass
class SenseLookupExample:
    """Two sentences as one text; ``query`` is the polysemous word of one of them.

    ``label`` indexes the query word's senses (as in ``SenseExample``); ``position`` and
    ``cue_position`` are the query word's and its cue's positions in ``tokens``.
    """

    tokens: list[str]
    query: str
    label: int
    sense: str
    position: int
    cue_position: int


def sense_lookup_examples(examples: Sequence[SenseExample], num_examples: int,
                          seed: int = 0) -> list[SenseLookupExample]:
    """``num_examples`` texts: a polysemous sentence and one of another polysemous word, in random order.

    The label is the sense of the first sentence's word, so a model must find that word's cue and
    ignore the other sentence's cue, which is just as strong a clue to *its* word's sense.
    """
    if len({e.word for e in examples}) < 2:
        raise ValueError("sense lookup needs polysemous sentences of at least two different words")
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(num_examples):
        a = examples[rng.integers(len(examples))]
        b = a
        while b.word == a.word:
            b = examples[rng.integers(len(examples))]
        offset = 0 if rng.random() < 0.5 else len(b.tokens)  # a first, or b first
        tokens = a.tokens + b.tokens if offset == 0 else b.tokens + a.tokens
        out.append(SenseLookupExample(list(tokens), a.word, a.label, a.sense, a.position + offset,
                                      a.cue_position + offset))
    return out


def lookup_batch(examples: Sequence[SenseLookupExample], vocab: Vocab) -> dict[str, Tensor]:
    """``input_ids``, ``attention_mask`` (B, T), ``query_ids`` (B,) and ``labels`` (B,) for ``PoolingClassifier``."""
    input_ids, attention_mask = pad_batch([vocab.encode(e.tokens) for e in examples], vocab.pad_id)
    return {"input_ids": input_ids, "attention_mask": attention_mask,
            "query_ids": torch.tensor([vocab[e.query] for e in examples]),
            "labels": torch.tensor([e.label for e in examples])}


class PoolingClassifier(nn.Module):
    """Embed the words, pool them into one vector (mean or attention), classify [pooled; query].

    ``pooling="attention"``: one query (the query word's embedding through W_q) attends over the
    words (keys W_k x, values W_v x), ``softmax(q·k / √D)`` being the pooling weights.
    ``pooling="mean"``: every real word gets the weight 1 / length, whatever the query.
    """

    def __init__(self, vocab_size: int, dim: int = 32, num_classes: int = 2, pooling: str = "attention") -> None:
        super().__init__()
        if pooling not in ("mean", "attention"):
            raise ValueError(f"pooling must be 'mean' or 'attention', got {pooling!r}")
        self.pooling = pooling
        self.embed = nn.Embedding(vocab_size, dim, padding_idx=0)
        if pooling == "attention":
            self.query = nn.Linear(dim, dim, bias=False)  # W_q
            self.key = nn.Linear(dim, dim, bias=False)  # W_k
        self.value = nn.Linear(dim, dim)  # W_v: what each word contributes to the pooled vector
        self.classify = nn.Linear(2 * dim, num_classes)

    def pool(self, input_ids: Tensor, attention_mask: Tensor, query_ids: Tensor) -> tuple[Tensor, Tensor]:
        """The pooled vector (B, dim) and the pooling weights (B, T): rows sum to 1, padding gets 0."""
        if should_check():
            V = self.embed.num_embeddings
            check_token_ids(input_ids, V, "input_ids")
            check_attention_mask(attention_mask, input_ids)
            check_labels(query_ids, V, "query_ids", (len(input_ids),), "the vocabulary size")
        x = self.embed(input_ids)  # (B, T, dim)
        values = self.value(x)  # (B, T, dim)
        if self.pooling == "attention":
            q = self.query(self.embed(query_ids))[:, None, :]  # (B, 1, dim): one query per text
            pooled, weights = scaled_dot_product_attention(q, self.key(x), values, mask=padding_mask(attention_mask))
            return pooled[:, 0], weights[:, 0]  # (B, dim), (B, T)
        keep = attention_mask.to(x.dtype)  # (B, T)
        weights = keep / keep.sum(dim=1, keepdim=True)  # (B, T): 1 / length on every real word
        return (weights[:, :, None] * values).sum(dim=1), weights

    def forward(self, input_ids: Tensor, attention_mask: Tensor, query_ids: Tensor,
                labels: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        """-> logits (B, num_classes), cross-entropy loss or None."""
        pooled, _ = self.pool(input_ids, attention_mask, query_ids)  # checks the ids and the mask
        if labels is not None and should_check():
            check_labels(labels, self.classify.out_features, "labels", (len(input_ids),), "num_classes")
        logits = self.classify(torch.cat([pooled, self.embed(query_ids)], dim=-1))  # (B, num_classes)
        loss = None if labels is None else F.cross_entropy(logits, labels)
        return logits, loss


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
