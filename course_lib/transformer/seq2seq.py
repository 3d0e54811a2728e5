"""Whole models built from ``course_lib.transformer``: a sequence-to-sequence Transformer with greedy
decoding (notebook 08) and an encoder-only sentence classifier (notebook 07's order test).

Both take a ``TransformerConfig`` and return ``(output, loss)`` with ``loss=None`` without targets,
so ``course_lib.train.fit`` trains them on the dicts of ``course_lib.text.collate``.

>>> model = Seq2SeqTransformer(TransformerConfig.tiny())
>>> logits, loss = model(src_ids, tgt_in, src_mask=src_mask, tgt_out=tgt_out)   # teacher forcing
>>> model.greedy_decode(src_ids, src_mask, max_len=12)                         # ids, each row ends at <eos>
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from course_lib.arguments import (
    check_attention_mask,
    check_features,
    check_int,
    check_labels,
    check_token_ids,
    checked_inputs,
    should_check,
)
from course_lib.attention import padding_mask
from course_lib.text import Vocab, length_buckets, pad_batch
from course_lib.text.collate import collate_seq2seq
from course_lib.transformer.layers import DecoderWeights, TransformerDecoder, TransformerEncoder
from course_lib.transformer.positions import positional_encoding


@dataclass
class TransformerConfig:
    vocab_size: int = 1024  # one vocabulary for source and target (the toy world has ~800 words)
    d_model: int = 128  # width of every token vector (H)
    num_heads: int = 4  # attention heads per layer (A); each of size d_model / num_heads
    d_ff: int = 512  # hidden width of the position-wise FFN (4 x d_model, as in the paper)
    num_encoder_layers: int = 2
    num_decoder_layers: int = 2
    dropout: float = 0.1
    max_len: int = 64  # longest sequence (learned positions have this many vectors)
    positions: str = "sinusoidal"  # "sinusoidal", "learned" or "none"
    activation: str = "relu"
    norm_first: bool = False  # False: post-LN (paper, BERT); True: pre-LN
    layer_norm_eps: float = 1e-5
    pad_id: int = Vocab.pad_id
    bos_id: int = Vocab.bos_id
    eos_id: int = Vocab.eos_id

    @classmethod
    def tiny(cls, **overrides) -> TransformerConfig:
        """A model small enough for unit tests (a few thousand parameters, no dropout)."""
        sizes = dict(vocab_size=24, d_model=32, num_heads=2, d_ff=64, num_encoder_layers=1,
                     num_decoder_layers=1, dropout=0.0, max_len=16)
        return cls(**{**sizes, **overrides})


def _stack(kind: type, num_layers: int, config: TransformerConfig) -> nn.Module:
    c = config
    return kind(num_layers, c.d_model, c.num_heads, c.d_ff, c.dropout, c.activation, c.norm_first, c.layer_norm_eps)


class Seq2SeqAttention(NamedTuple):
    """All attention of one forward pass, one entry per layer: (B, A, S, S), (B, A, T, T), (B, A, T, S)."""

    encoder: list[Tensor]
    decoder_self: list[Tensor]
    cross: list[Tensor]


class Seq2SeqTransformer(nn.Module):
    """Encoder–decoder Transformer; source and target share the embedding, which is also the output layer."""

    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        c = self.config = config
        self.embedding = nn.Embedding(c.vocab_size, c.d_model, padding_idx=c.pad_id)
        nn.init.normal_(self.embedding.weight, std=c.d_model ** -0.5)  # × √d below: unit-size vectors
        self.positions = positional_encoding(c.positions, c.d_model, c.max_len)
        self.dropout = nn.Dropout(c.dropout)
        self.encoder = _stack(TransformerEncoder, c.num_encoder_layers, c)
        self.decoder = _stack(TransformerDecoder, c.num_decoder_layers, c)

    @property
    def max_positions(self) -> int | None:
        """The longest sequence the model reads: ``max_len`` with learned positions, else any (None)."""
        return self.config.max_len if self.config.positions == "learned" else None

    def check_inputs(self, src_ids: Tensor, tgt_in: Tensor | None = None, src_mask: Tensor | None = None,
                     tgt_out: Tensor | None = None, tgt_mask: Tensor | None = None) -> None:
        """Raise, naming the argument, unless the inputs fit: ids (B, S) and (B, T) in the vocabulary, masks of
        their shapes. ``forward`` calls it once; ``encode`` and ``decode`` check what they are given."""
        V, P = self.config.vocab_size, self.max_positions
        check_token_ids(src_ids, V, "src_ids", P)
        check_attention_mask(src_mask, src_ids, "src_mask", "src_ids")
        if tgt_in is None:
            return
        check_token_ids(tgt_in, V, "tgt_in", P)
        if len(tgt_in) != len(src_ids):
            raise ValueError(f"tgt_in has {len(tgt_in)} sequences but src_ids {len(src_ids)}: one target per source")
        if tgt_out is not None:
            check_labels(tgt_out, V, "tgt_out", tuple(tgt_in.shape), "the vocabulary size (config.vocab_size)",
                         shape_name="the shape of tgt_in")
        check_attention_mask(tgt_mask, tgt_in, "tgt_mask", "tgt_in")

    def embed(self, ids: Tensor) -> Tensor:
        """ids (B, T) -> (B, T, C): embedding × √d_model (the paper's section 3.4) + positions."""
        return self.dropout(self.positions(self.embedding(ids) * math.sqrt(self.config.d_model)))

    def encode(self, src_ids: Tensor, src_mask: Tensor | None = None,
               need_weights: bool = False) -> tuple[Tensor, list[Tensor] | None]:
        """src_ids (B, S), src_mask (B, S) of 0/1 -> memory (B, S, C), encoder weights per layer."""
        if should_check():
            self.check_inputs(src_ids, src_mask=src_mask)
        with checked_inputs():
            return self.encoder(self.embed(src_ids), self._keys(src_mask), need_weights)

    def decode(self, tgt_in: Tensor, memory: Tensor, src_mask: Tensor | None = None,
               need_weights: bool = False) -> tuple[Tensor, list[DecoderWeights] | None]:
        """tgt_in (B, T) starting with <bos>, memory (B, S, C) -> logits (B, T, V), decoder weights."""
        if should_check():
            B = len(check_token_ids(tgt_in, self.config.vocab_size, "tgt_in", self.max_positions))
            check_features(memory, "memory", self.config.d_model, batch=B)
            check_attention_mask(src_mask, memory[..., 0], "src_mask", "memory's first two dimensions (B, S)")
        with checked_inputs():
            h, weights = self.decoder(self.embed(tgt_in), memory, self._keys(src_mask), need_weights=need_weights)
        return h @ self.embedding.weight.T, weights  # (B, T, V): the output layer is the embedding, tied

    @staticmethod
    def _keys(src_mask: Tensor | None) -> Tensor | None:
        return None if src_mask is None else padding_mask(src_mask)  # (B, 1, 1, S)

    def forward(self, src_ids: Tensor, tgt_in: Tensor, src_mask: Tensor | None = None,
                tgt_out: Tensor | None = None, tgt_mask: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        """Teacher forcing: logits (B, T, V) for ``tgt_in`` and, given ``tgt_out``, the mean cross-entropy
        over its real tokens (``[PAD]`` positions, or ``tgt_mask == 0``, are skipped). Takes
        ``collate_seq2seq``'s dict as keyword arguments."""
        if should_check():
            self.check_inputs(src_ids, tgt_in, src_mask, tgt_out, tgt_mask)
        with checked_inputs():
            memory, _ = self.encode(src_ids, src_mask)
            logits, _ = self.decode(tgt_in, memory, src_mask)
        if tgt_out is None:
            return logits, None
        if tgt_mask is not None:
            tgt_out = tgt_out.masked_fill(tgt_mask == 0, self.config.pad_id)
        loss = F.cross_entropy(logits.flatten(0, 1), tgt_out.flatten(), ignore_index=self.config.pad_id)
        return logits, loss

    @torch.no_grad()
    def greedy_decode(self, src_ids: Tensor, src_mask: Tensor | None = None, max_len: int | None = None) -> Tensor:
        """Always take the most probable next token: (B, ≤ max_len) ids, each row ending at its <eos>
        (then ``[PAD]``), or cut at ``max_len`` tokens when no <eos> came. Stops when every row is done."""
        c = self.config
        max_len = c.max_len - 1 if max_len is None else check_int(max_len, "max_len", minimum=1)
        memory, _ = self.encode(src_ids, src_mask)  # checks src_ids and src_mask
        B = src_ids.shape[0]
        ys = torch.full((B, 1), c.bos_id, dtype=torch.long, device=src_ids.device)  # (B, 1): <bos>
        done = torch.zeros(B, dtype=torch.bool, device=src_ids.device)
        with checked_inputs():  # no check per step: every new id comes from the model
            for _ in range(max_len):
                logits, _ = self.decode(ys, memory, src_mask)
                nxt = logits[:, -1].argmax(-1).masked_fill(done, c.pad_id)  # (B,)
                ys = torch.cat([ys, nxt[:, None]], dim=1)  # (B, t + 1)
                done |= nxt == c.eos_id
                if done.all():
                    break
        return ys[:, 1:]

    @torch.no_grad()
    def attention(self, src_ids: Tensor, tgt_in: Tensor, src_mask: Tensor | None = None) -> Seq2SeqAttention:
        """Every attention weight of one teacher-forced pass, for the explorer."""
        if should_check():
            self.check_inputs(src_ids, tgt_in, src_mask)
        with checked_inputs():
            memory, enc = self.encode(src_ids, src_mask, need_weights=True)
            _, dec = self.decode(tgt_in, memory, src_mask, need_weights=True)
        return Seq2SeqAttention(enc, [w.self_attention for w in dec], [w.cross_attention for w in dec])


class TransformerClassifier(nn.Module):
    """Encoder + mean over the real tokens + a linear layer: one label per sentence.

    The mean is order-free, so with ``positions="none"`` a sentence and any shuffle of it get
    exactly the same logits (notebook 07).
    """

    def __init__(self, config: TransformerConfig, num_classes: int) -> None:
        super().__init__()
        c = self.config = config
        self.embedding = nn.Embedding(c.vocab_size, c.d_model, padding_idx=c.pad_id)
        self.positions = positional_encoding(c.positions, c.d_model, c.max_len)
        self.dropout = nn.Dropout(c.dropout)
        self.encoder = _stack(TransformerEncoder, c.num_encoder_layers, c)
        self.classifier = nn.Linear(c.d_model, num_classes)

    def forward(self, input_ids: Tensor, attention_mask: Tensor | None = None,
                labels: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        """input_ids, attention_mask (B, T) -> logits (B, num_classes), loss given ``labels`` (B,)."""
        c = self.config
        if should_check():
            check_token_ids(input_ids, c.vocab_size, "input_ids", c.max_len if c.positions == "learned" else None)
            check_attention_mask(attention_mask, input_ids)
            if labels is not None:
                check_labels(labels, self.classifier.out_features, "labels", (len(input_ids),), "num_classes")
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        x = self.dropout(self.positions(self.embedding(input_ids)))
        with checked_inputs():
            h, _ = self.encoder(x, padding_mask(attention_mask))  # (B, T, C)
        keep = attention_mask[..., None].to(h.dtype)  # (B, T, 1)
        logits = self.classifier((h * keep).sum(1) / keep.sum(1))  # (B, num_classes)
        return logits, (None if labels is None else F.cross_entropy(logits, labels))


def seq2seq_batches(examples: Sequence, vocab: Vocab, batch_size: int = 64,
                    seed: int = 0) -> Callable[[], list[dict[str, Tensor]]]:
    """A function giving one epoch of ``collate_seq2seq`` batches (similar lengths together, shuffled)."""
    generator = torch.Generator().manual_seed(seed)
    lengths = [len(e.source) for e in examples]

    def epoch() -> list[dict[str, Tensor]]:
        return [collate_seq2seq([examples[i] for i in idx], vocab)
                for idx in length_buckets(lengths, batch_size, generator=generator)]
    return epoch


def translate(model: Seq2SeqTransformer, sources: Sequence[Sequence[str]], vocab: Vocab,
              batch_size: int = 256, max_len: int | None = None) -> list[list[str]]:
    """Greedy outputs as tokens (up to, not including, <eos>) for source token lists."""
    device = next(model.parameters()).device
    was_training, out = model.training, []
    model.eval()
    for s in range(0, len(sources), batch_size):
        chunk = sources[s:s + batch_size]
        ids, mask = pad_batch([vocab.encode(list(t)) for t in chunk], vocab.pad_id)
        limit = max_len if max_len is not None else ids.shape[1] + 2
        generated = model.greedy_decode(ids.to(device), mask.to(device), max_len=limit).tolist()
        for row in generated:
            row = row[:row.index(vocab.eos_id)] if vocab.eos_id in row else row
            out.append(vocab.decode(row))
    model.train(was_training)
    return out


def sequence_exact_match(model: Seq2SeqTransformer, examples: Sequence, vocab: Vocab, batch_size: int = 256) -> float:
    """Share of examples whose greedy output equals the target token for token."""
    outputs = translate(model, [e.source for e in examples], vocab, batch_size)
    return sum(o == list(e.target) for o, e in zip(outputs, examples, strict=True)) / len(examples)


def joint_attention(att: Seq2SeqAttention, index: int = 0) -> Tensor:
    """One example's attention as square maps over source + target tokens, for ``AttentionExplorer``.

    Layer l, head h: rows and columns are the S source tokens then the T target tokens; the
    top-left block is encoder self-attention, the bottom-right the decoder's masked self-attention,
    the bottom-left the cross-attention (target queries reading the source). Returns (L, A, S+T, S+T).
    """
    L = max(len(att.encoder), len(att.decoder_self))
    A, S = att.encoder[0].shape[1], att.encoder[0].shape[-1]
    T = att.decoder_self[0].shape[-1]
    out = torch.zeros(L, A, S + T, S + T)
    for layer in range(L):
        if layer < len(att.encoder):
            out[layer, :, :S, :S] = att.encoder[layer][index]
        if layer < len(att.decoder_self):
            out[layer, :, S:, S:] = att.decoder_self[layer][index]
            out[layer, :, S:, :S] = att.cross[layer][index]
    return out
