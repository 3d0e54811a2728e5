"""The toy BERT of notebook 09: its WordPiece vocabulary, its config, its PPMI-initialised embeddings, its recipe.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass

import torch

from course_lib.arguments import check_fields
from course_lib.bert.model import BertConfig, BertForPreTraining
from course_lib.bert.pretraining import (
    OBJECTIVES,
    next_token_accuracy,
    objective_step,
    pretraining_accuracy,
    pretraining_batches,
)
from course_lib.core import History, Recipe, TrainConfig, fit, pretrained
from course_lib.data import TOY_WORLDS, named_toy_world
from course_lib.data.corpus import Corpus
from course_lib.text import WordPieceTokenizer
from course_lib.wordvec import ppmi_svd


def _world_corpus(corpus: str, split: str, seed: int, num_documents: int) -> Corpus:
    """The first ``num_documents`` of ``split`` of the toy world named ``corpus`` (a key of ``TOY_WORLDS``).

    ``"toyworld"`` is the default world (``toyworld_corpus``); ``"toyworld-families"`` has the optional sentence
    families on (long-range cues, many-cue senses, statements ...). Any other name: ValueError listing both.
    """
    world = named_toy_world(corpus) if isinstance(corpus, str) else None
    if world is None:
        raise ValueError(f"corpus must name a toy world, one of {', '.join(map(repr, TOY_WORLDS))}; got {corpus!r} "
                         "(the toy BERT's tokenizer, PPMI init and evaluations need the toy world)")
    return world.corpus(split, seed, num_documents)


@functools.lru_cache(maxsize=4)
def toy_wordpiece(vocab_size: int = 2000, num_documents: int = 6000, seed: int = 0, corpus: str = "toyworld"):
    """The toy BERT's WordPiece tokenizer, trained deterministically on the train split of toy world ``corpus``.

    At the default size 799 of the default world's 804 words are one token each (``marches``, ``sighs`` and three
    more are split), so MLM accuracy is nearly word accuracy. "toyworld-families" has 1,001 words: at 2,000 it
    splits 140 of them (59 of the 80 many-cue verbs: ``glimmers`` -> ``glimmer ##s``), at ``vocab_size=3000``
    none (the vocabulary stops at 2,157).
    Kept in memory after the first call (a few seconds each): the toy BERT and every ablation share it.
    """
    documents = _world_corpus(corpus, "train", seed, num_documents)
    return WordPieceTokenizer.train([" ".join(s.tokens) for s in documents.sentences()], vocab_size=vocab_size)


def toy_bert_config(vocab_size: int, hidden_size: int = 64, num_hidden_layers: int = 2,
                    num_attention_heads: int = 4, intermediate_size: int = 256, initializer_range: float = 0.1):
    """The ``BertConfig`` of the toy BERT: small, no dropout (the generated data is plentiful).

    ``initializer_range`` 0.1 rather than BERT's 0.02: at width 64 a N(0, 0.02²) projection scales its input
    by ~0.02·√64 ≈ 0.16, so what attention brings to [CLS] (value, then output projection) starts ~40x smaller
    than [CLS]'s own embedding. Together with ``ppmi_word_embeddings`` this lets NSP leave chance early.
    """
    return BertConfig(vocab_size=vocab_size, hidden_size=hidden_size, num_hidden_layers=num_hidden_layers,
                      num_attention_heads=num_attention_heads, intermediate_size=intermediate_size,
                      max_position_embeddings=128, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
                      initializer_range=initializer_range)


def ppmi_word_embeddings(model, corpus, tokenizer, window: int = 40, std: float | None = None) -> int:
    """Overwrite the word embeddings of the toy words with count-based vectors (notebook 01's PPMI + SVD).

    Counts are taken over whole documents (each document read as one token sequence, ``window`` words either
    side), so words of the same topic, and a topic's character names, get similar vectors: the evidence NSP
    compares. The vectors are rescaled to standard deviation ``std`` (default: the model's
    ``initializer_range``); tokens that are not toy words (special tokens, ``##`` pieces) keep their random
    rows. Returns the number of rows written. Deterministic (a full SVD of the PPMI matrix).
    """
    embeddings = model.bert.embeddings.word_embeddings if hasattr(model, "bert") else model.embeddings.word_embeddings
    std = model.config.initializer_range if std is None else std
    documents = [[w for s in doc.sentences for w in s.tokens] for doc in corpus.documents]
    vectors = ppmi_svd(documents, dim=embeddings.embedding_dim, window=window)
    rows = torch.tensor(tokenizer.convert_tokens_to_ids(list(vectors.words)))
    keep = torch.tensor([int(i) != tokenizer.unk_token_id and int(i) not in tokenizer.special_ids for i in rows])
    v = vectors.vectors[keep]
    with torch.no_grad():
        embeddings.weight[rows[keep]] = (v / v.std() * std).to(embeddings.weight.dtype)
    return int(keep.sum())


@dataclass(frozen=True)
class ToyBertSettings(Recipe):
    """The toy BERT of notebook 09 and its ablations (notebook 12): every field decides the trained weights.

    Pre-trained on the train split of the toy world ``corpus`` (``"toyworld"``; ``"toyworld-families"`` has the
    optional sentence families on, whose label-scarce tasks are in ``course_lib.data.family_tasks``) with
    ``objective`` (``"mlm+nsp"``: BERT's own; ``"mlm"``: the masked LM alone; ``"ltr"``: a causal encoder
    predicting the next token, as GPT), AdamW with warm-up then ``schedule`` decay. The model keeps the weights
    of the last step (not of the best evaluation: NSP at chance would pick an early one).
    ``embedding_init="ppmi"`` starts the word embeddings from document-level PPMI + SVD vectors of the training
    corpus (``ppmi_word_embeddings``), ``None`` from BERT's random init; with ``initializer_range`` 0.1 this is
    what lifts NSP off chance within the budget. One thread was faster than two for this small model on the
    course's 2-core CPU (and the SVD's rounding, so the model, depends on the count).
    """

    objective: str = "mlm+nsp"  # "mlm+nsp", "mlm" or "ltr" (see course_lib.bert.OBJECTIVES)
    steps: int = 1500
    seed: int = 0  # corpus, tokenizer, initial weights, masking and batch order
    vocab_size: int = 2000  # WordPiece vocabulary (2,000: a toy word is one piece; "toyworld-families" needs 3,000)
    num_documents: int = 6000  # documents of the train split
    corpus: str = "toyworld"  # the toy world: "toyworld" or "toyworld-families" (course_lib.data.TOY_WORLDS)
    hidden_size: int = 64
    num_hidden_layers: int = 2
    num_attention_heads: int = 4
    intermediate_size: int | None = None  # None: 4 x hidden_size
    batch_size: int = 128  # sentence pairs per step
    max_length: int = 64  # pieces per pair, [CLS] and [SEP]s included
    lr: float = 3e-3
    warmup_steps: int | None = None  # None: steps // 15 (100 of 1,500)
    schedule: str = "linear"  # after warm-up: "linear" or "cosine" to 0, or "constant"
    initializer_range: float = 0.1
    embedding_init: str | None = "ppmi"  # or None
    ppmi_window: int = 40
    evaluations: int = 6  # held-out evaluations during training (on 300 validation documents)
    threads: int = 1

    def __post_init__(self) -> None:
        check_fields(self)
        if self.objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {OBJECTIVES}, got {self.objective!r}")
        if self.corpus not in TOY_WORLDS:
            raise ValueError(f"ToyBertSettings.corpus must be one of {', '.join(map(repr, TOY_WORLDS))}, "
                             f"got {self.corpus!r}")
        if self.embedding_init not in (None, "ppmi"):
            raise ValueError(f"embedding_init must be None or 'ppmi', got {self.embedding_init!r}")
        for name in ("steps", "hidden_size", "num_hidden_layers", "num_attention_heads", "batch_size", "evaluations",
                     "threads", "num_documents"):
            if getattr(self, name) < 1:
                raise ValueError(f"ToyBertSettings.{name} must be >= 1, got {getattr(self, name)}")

    @property
    def name(self) -> str:  # the cache file's prefix
        base = "toy-bert" if self.objective == "mlm+nsp" else f"toy-bert-{self.objective}"
        return base if self.corpus == "toyworld" else f"{base}-{self.corpus.removeprefix('toyworld-')}"

    def tokenizer(self):
        return toy_wordpiece(self.vocab_size, self.num_documents, self.seed, self.corpus)

    def config(self) -> BertConfig:
        intermediate = 4 * self.hidden_size if self.intermediate_size is None else self.intermediate_size
        return dataclasses.replace(
            toy_bert_config(self.tokenizer().vocab_size, self.hidden_size, self.num_hidden_layers,
                            self.num_attention_heads, intermediate, self.initializer_range),
            is_decoder=self.objective == "ltr")

    def build(self) -> BertForPreTraining:
        return BertForPreTraining(self.config())

    def train_config(self, device: torch.device | str = "auto", progress: bool = True) -> TrainConfig:
        warmup = max(1, self.steps // 15) if self.warmup_steps is None else self.warmup_steps
        monitor = "next_token_accuracy" if self.objective == "ltr" else "mask_accuracy"
        desc = "pre-training BERT" if self.objective == "mlm+nsp" else (
            f"pre-training: {self.objective}, {self.num_hidden_layers}x{self.hidden_size}")
        return TrainConfig(steps=self.steps, lr=self.lr, warmup_steps=warmup,
                           schedule=self.schedule, eval_every=max(1, self.steps // self.evaluations),
                           monitor=monitor, mode="max", restore_best=False, seed=self.seed, progress=progress,
                           desc=desc, device=device)

    def train(self, model: BertForPreTraining, device: torch.device, progress: bool) -> History:
        tokenizer = self.tokenizer()
        corpus = _world_corpus(self.corpus, "train", self.seed, self.num_documents)
        held_out = list(pretraining_batches(_world_corpus(self.corpus, "validation", self.seed, 300),
                                            tokenizer, 256, self.max_length, seed=self.seed + 1000)())
        if self.embedding_init == "ppmi":
            ppmi_word_embeddings(model, corpus, tokenizer, window=self.ppmi_window)
        if self.objective == "ltr":
            evaluate = lambda m: next_token_accuracy(m, held_out)  # noqa: E731
        else:
            evaluate = lambda m: pretraining_accuracy(m, held_out, tokenizer.mask_token_id)  # noqa: E731
        batches = pretraining_batches(corpus, tokenizer, self.batch_size, self.max_length, self.seed)
        return fit(model, batches, self.train_config(device, progress), evaluate=evaluate,
                   step=objective_step(self.objective))


def pretrained_toy_bert(settings: ToyBertSettings | None = None, device: str = "auto", progress: bool = True
                        ) -> tuple[BertForPreTraining, WordPieceTokenizer, History]:
    """The toy BERT that ``settings`` describes (default: notebook 09's), pre-trained once, then from the cache.

    Returns ``(model, tokenizer, history)``: a ``BertForPreTraining`` in eval mode, its ``WordPieceTokenizer``
    and the training ``History`` (held-out ``nsp_accuracy``, ``mask_accuracy`` ... or, for ``"ltr"``,
    ``next_token_accuracy``, on 300 validation documents). Notebooks 10-12 call it with notebook 09's settings.
    """
    settings = ToyBertSettings() if settings is None else settings
    model, history = pretrained(settings, device, progress)
    return model, settings.tokenizer(), history
