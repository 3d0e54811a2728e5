"""Looking inside a trained BERT (notebook 11): what its heads attend to, and how a word's vector moves
with its context, layer by layer.

    sentence_attention(bert, tokenizer, "the bank floods")  -> tokens, attention (L, A, T, T)
    head_statistics(bert, tokenizer, sense_examples)         -> HeadStats: mass to [SEP], [CLS], the previous
                                                                and next token, and from a word to its cue
    bert_word_layers(bert, tokenizer, sentences, positions)  -> L + 1 tensors (N, H): one word, every layer
    similarity_by_layer(layers, senses)                      -> (within-sense, across-sense) cosine per layer
    pretrained_bert_or_none(pretrained_dir)                  -> (BertModel, tokenizer), or None when not set

A head's "mass to X" is the attention weight a query puts on the keys of X, averaged over the real
(non-padding) queries of every sentence; a head that spreads its weight evenly over T tokens gives any
one key 1/T, the **uniform baseline** (``HeadStats.uniform``) each statistic is compared with.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from course_lib.bert.loading import load_pretrained
from course_lib.bert.model import BertModel
from course_lib.elmo import within_across_cosine
from course_lib.text import pad_batch
from course_lib.text.collate import encode_words

PATTERNS = ("[SEP]", "[CLS]", "previous token", "next token", "cue")


@torch.no_grad()
def sentence_attention(bert: BertModel, tokenizer, text: str | Sequence[str]) -> tuple[list[str], Tensor]:
    """``[CLS] text [SEP]`` through ``bert``: its tokens and the attention of every layer and head (L, A, T, T).

    ``text`` is a string or a list of words (each word cut into pieces on its own, as in the tasks).
    """
    words = text.split() if isinstance(text, str) else list(text)
    pieces = encode_words(words, tokenizer).ids
    ids = torch.tensor([[tokenizer.cls_token_id, *pieces, tokenizer.sep_token_id]])
    device = next(bert.parameters()).device
    out, _ = bert(ids.to(device), output_attentions=True)
    attention = torch.stack([a[0] for a in out.attentions]).cpu()  # (L, A, T, T)
    return tokenizer.convert_ids_to_tokens(ids[0].tolist()), attention


def attention_function(bert: BertModel, tokenizer) -> Callable[[str], tuple[list[str], Tensor]]:
    """``sentence -> (tokens, attention (L, A, T, T))``, what ``course_lib.viz.AttentionExplorer`` calls."""
    return lambda sentence: sentence_attention(bert, tokenizer, sentence)


def mass_to_keys(attention: Tensor, key_mask: Tensor, query_mask: Tensor) -> Tensor:
    """Mean over real queries of the weight on the keys in ``key_mask``.

    attention (B, L, A, T, T); key_mask, query_mask (B, T) bool -> (B, L, A): one number per sentence and head.
    """
    mass = (attention * key_mask[:, None, None, None, :]).sum(-1)  # (B, L, A, T): per query
    q = query_mask[:, None, None, :].to(attention.dtype)
    return (mass * q).sum(-1) / q.sum(-1)


def offset_mass(attention: Tensor, query_mask: Tensor, offset: int = -1) -> Tensor:
    """Mean weight of query t on key t + ``offset`` (-1: the previous token, +1: the next), over the real
    queries that have such a key. attention (B, L, A, T, T), query_mask (B, T) -> (B, L, A).

    >>> a = torch.eye(3).roll(-1, dims=0)[None, None, None]  # every query on its previous token ...
    >>> offset_mass(a, torch.ones(1, 3, dtype=torch.bool)).item()  # ... except the first, which has none
    1.0
    """
    T = attention.shape[-1]
    if not 0 < abs(offset) < T:
        raise ValueError(f"offset must be non-zero and shorter than the sequence ({T}), got {offset}")
    weights = attention.diagonal(offset=offset, dim1=-2, dim2=-1)  # (B, L, A, T - |offset|): a[t, t + offset]
    # the query t has a key t + offset when both are real tokens
    valid = query_mask[:, -offset:] & query_mask[:, :offset] if offset < 0 else query_mask[:, :-offset] & query_mask[:, offset:]
    v = valid[:, None, None, :].to(attention.dtype)
    return (weights * v).sum(-1) / v.sum(-1).clamp_min(1)


@dataclass
class HeadStats:
    """Measured attention patterns, each (L, A): one number per layer and head, averaged over sentences."""

    patterns: dict[str, Tensor]  # PATTERNS -> (L, A)
    uniform: float  # mean of 1/T: the weight one key gets from a head that attends evenly
    num_sentences: int

    def ratio(self, pattern: str) -> Tensor:
        """(L, A): how many times the uniform baseline each head gives ``pattern``."""
        return self.patterns[pattern] / self.uniform


def _sense_batch(examples: Sequence, tokenizer) -> dict[str, Tensor]:
    """``[CLS] words [SEP]`` of sense examples, padded, with where the word and its cue stand (in pieces)."""
    rows, word_at, cue_from, cue_to = [], [], [], []
    for e in examples:
        enc = encode_words(e.tokens, tokenizer)
        rows.append([tokenizer.cls_token_id, *enc.ids, tokenizer.sep_token_id])
        word_at.append(1 + enc.word_starts[e.position])  # + 1: [CLS] comes first
        cue_from.append(1 + enc.word_starts[e.cue_position])
        cue_to.append(2 + enc.word_ends[e.cue_position])  # every piece of the cue word
    T = max(map(len, rows))
    ids = torch.tensor([r + [tokenizer.pad_token_id] * (T - len(r)) for r in rows])
    pos = torch.arange(T)
    return {"input_ids": ids, "attention_mask": (pos < torch.tensor([len(r) for r in rows])[:, None]).long(),
            "word": torch.tensor(word_at), "cue": (pos >= torch.tensor(cue_from)[:, None]) & (pos < torch.tensor(cue_to)[:, None])}


@torch.no_grad()
def head_statistics(bert: BertModel, tokenizer, examples: Sequence, batch_size: int = 128) -> HeadStats:
    """What every head of ``bert`` attends to, over sentences with a polysemous word (``SenseExample``s).

    ``[SEP]``, ``[CLS]``: mass on that token, averaged over all real queries; ``previous token``, ``next
    token``: the weight of t on t - 1 (t + 1); ``cue``: the weight from the polysemous word (its first piece)
    to the word that decides its sense (all its pieces), read from each example's ``cue_position``.
    """
    if not examples:
        raise ValueError("head_statistics needs at least one example")
    device = next(bert.parameters()).device
    sums: dict[str, Tensor] = {}
    inverse_lengths = 0.0
    for start in range(0, len(examples), batch_size):
        batch = _sense_batch(examples[start:start + batch_size], tokenizer)
        ids, real = batch["input_ids"], batch["attention_mask"].bool()
        out, _ = bert(ids.to(device), attention_mask=batch["attention_mask"].to(device), output_attentions=True)
        att = torch.stack(out.attentions, dim=1).cpu()  # (B, L, A, T, T)
        rows = torch.arange(len(ids))
        per_sentence = {
            "[SEP]": mass_to_keys(att, ids == tokenizer.sep_token_id, real),
            "[CLS]": mass_to_keys(att, ids == tokenizer.cls_token_id, real),
            "previous token": offset_mass(att, real, -1),
            "next token": offset_mass(att, real, +1),
            "cue": (att[rows, :, :, batch["word"]] * batch["cue"][:, None, None, :]).sum(-1),  # (B, L, A)
        }
        for name, value in per_sentence.items():
            sums[name] = sums.get(name, 0) + value.sum(0)
        inverse_lengths += (1.0 / real.sum(1).double()).sum().item()
    n = len(examples)
    return HeadStats({name: sums[name] / n for name in PATTERNS}, inverse_lengths / n, n)


def top_heads(scores: Tensor, k: int = 3) -> list[tuple[int, int, float]]:
    """The ``k`` largest entries of ``scores`` (L, A) as ``(layer, head, value)``, largest first."""
    L, A = scores.shape
    values, flat = scores.flatten().topk(min(k, L * A))
    return [(int(i) // A, int(i) % A, float(v)) for v, i in zip(values, flat, strict=True)]


@torch.no_grad()
def bert_word_layers(bert: BertModel, tokenizer, sentences: Sequence[Sequence[str]], positions: Sequence[int],
                     batch_size: int = 128) -> list[Tensor]:
    """The vector of the word ``sentences[i][positions[i]]`` (its first piece) in every layer of ``bert``:
    L + 1 tensors (N, H), the embedding layer first (ELMo's ``layer_features`` for BERT)."""
    device = next(bert.parameters()).device
    per_layer: list[list[Tensor]] = []
    for start in range(0, len(sentences), batch_size):
        rows, at = [], []
        for words, p in zip(sentences[start:start + batch_size], positions[start:start + batch_size], strict=True):
            enc = encode_words(words, tokenizer)
            rows.append([tokenizer.cls_token_id, *enc.ids, tokenizer.sep_token_id])
            at.append(1 + enc.word_starts[p])
        ids, mask = pad_batch(rows, tokenizer.pad_token_id)  # (B, T) each
        out, _ = bert(ids.to(device), attention_mask=mask.to(device), output_hidden_states=True)
        states = out.hidden_states
        if not per_layer:
            per_layer = [[] for _ in states]
        for j, h in enumerate(states):
            per_layer[j].append(h[torch.arange(len(at)), torch.tensor(at, device=device)].cpu())
    return [torch.cat(p) for p in per_layer]


def similarity_by_layer(layers: Sequence[Tensor], senses: Sequence[int], centered: bool = True
                        ) -> list[tuple[float, float]]:
    """``(within, across)`` for each layer: the mean cosine between two occurrences of a word with the same
    sense, and with different senses. ``centered`` first subtracts the word's mean vector in that layer,
    which every occurrence shares and which would make every cosine close to 1."""
    return [within_across_cosine(x, senses, centered=centered) for x in layers]


def pretrained_bert_or_none(pretrained_dir: str | Path | None):
    """``(BertModel, WordPieceTokenizer)`` from a local Hugging Face BERT folder, or None when no folder is given.

    An empty ``pretrained_dir`` ("" or None) means "skip": nothing is read and nothing is downloaded. A
    folder that is given but does not exist is an error (a typo should not pass as "skipped").
    """
    if pretrained_dir is None or not str(pretrained_dir).strip():
        return None
    folder = Path(pretrained_dir).expanduser()
    if not folder.is_dir():
        raise FileNotFoundError(f"pretrained_dir={str(pretrained_dir)!r} is not a folder")
    model, tokenizer = load_pretrained(folder, BertModel)
    if tokenizer is None:
        raise FileNotFoundError(f"{folder} has no vocab.txt: save the tokenizer too (tokenizer.save_pretrained)")
    return model, tokenizer
