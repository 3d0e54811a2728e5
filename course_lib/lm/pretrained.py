"""The cached language models: what the LSTM LM (notebook 02), the biLM (03) and the GPT (12) share, and the LSTM LM.

``LMRecipe`` is the part of their recipes (``course_lib.core.Recipe``) that is the same: the corpus
(``LMDataConfig``: the toy world by default, or any ``load_corpus`` source), its vocabulary, the held-out
sentences, and building ``model_class(config with vocab_size set, vocab)``. ``LSTMLMSettings`` adds what is
the LSTM LM's own: its config, its training budget and schedule.

>>> model, history = pretrained_lstm_lm(LSTMLMSettings(steps=2300))   # trained once, then from the cache  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import ClassVar

import torch
from torch import nn

from course_lib.arguments import check_fields
from course_lib.core import History, Recipe, TrainConfig, fit, pretrained
from course_lib.data import TOY_WORLDS
from course_lib.data.corpus import Corpus
from course_lib.lm.data import LMDataConfig, lm_vocab, load_lm_corpus, sentence_batches
from course_lib.lm.lstm import LSTMLM, LSTMLMConfig
from course_lib.lm.ngram import cross_entropy, token_lists
from course_lib.text import Vocab


@functools.lru_cache(maxsize=8)
def _vocab(corpus: str, seed: int, train_documents: int) -> Vocab:
    return lm_vocab(corpus, () if corpus in TOY_WORLDS else load_lm_corpus(corpus, "train", seed, train_documents))


class LMRecipe(Recipe):
    """What the recipes of the course's language models share; subclasses are frozen dataclasses with the fields
    ``model`` (the model's config), ``data`` (an ``LMDataConfig``; None means ``LMDataConfig(seed=seed)``),
    ``steps``, ``lr``, ``seed``, ``threads`` and the class attribute ``model_class``."""

    model_class: ClassVar[type[nn.Module]]

    def __post_init__(self) -> None:
        if self.data is None:  # the corpus follows the seed unless given
            object.__setattr__(self, "data", LMDataConfig(seed=self.seed))
        check_fields(self)

    def corpus(self, split: str, num_documents: int | None = None) -> Corpus:
        return load_lm_corpus(self.data.corpus, split, self.data.seed, num_documents)

    def vocab(self) -> Vocab:
        """The toy world's vocabulary, or the words seen twice in the training documents of another corpus."""
        return _vocab(self.data.corpus, self.data.seed, self.data.train_documents)

    def held_out(self) -> list[list[str]]:
        """The validation sentences that ``val_loss`` is measured on."""
        return token_lists(self.corpus("validation", 200))[: self.data.validation_sentences]

    def train_sentences(self) -> Corpus:
        return self.corpus("train", self.data.train_documents)

    def build(self) -> nn.Module:
        vocab = self.vocab()
        return self.model_class(dataclasses.replace(self.model, vocab_size=len(vocab)), vocab)

    def key_settings(self) -> dict:
        """Every field, except ``model.vocab_size``: ``build`` sets it from the corpus's vocabulary, whatever it says."""
        fields = dataclasses.asdict(self)
        fields["model"].pop("vocab_size", None)
        return fields

    def train(self, model: nn.Module, device: torch.device, progress: bool) -> History:
        """Sentence-level LMs (LSTM LM, GPT) train alike; ``train_config`` says with what (the biLM has its own)."""
        return train_sentence_lm(model, self.train_sentences(), self.held_out(), self.train_config(device, progress),
                                 self.data.batch_size)

    def data_fingerprint(self) -> object:
        """A corpus read from disk can change without the code changing: its first sentences go into the key."""
        if self.data.corpus in TOY_WORLDS:
            return None
        return [s.text for s in self.corpus("train", 3)]


def train_sentence_lm(model: nn.Module, sentences: Iterable, held_out: list[list[str]], config: TrainConfig,
                      batch_size: int = 64) -> History:
    """Train a sentence-level LM (LSTM LM, GPT) with ``course_lib.core.fit``; ``val_loss`` is nats per token."""
    batches = sentence_batches(sentences, model._words(), batch_size, seed=config.seed or 0)
    return fit(model, batches, config, evaluate=lambda m: {"val_loss": cross_entropy(m, held_out)})


@dataclass(frozen=True)
class LSTMLMSettings(LMRecipe):
    """The LSTM LM of notebook 02: every field decides the trained weights (and is in the cache key).

    Adam at ``lr`` decayed linearly to 0, clipped at 1, no warm-up: on the toy world a 100-step warm-up left
    the model on a plateau for its first ~800 steps (test perplexity 1.10x the exact bound after 2,300 steps,
    against 1.05x without).
    """

    name: ClassVar[str] = "lstm-lm"
    model_class: ClassVar[type[nn.Module]] = LSTMLM
    model: LSTMLMConfig = field(default_factory=LSTMLMConfig)
    data: LMDataConfig | None = None  # None: the toy world with this seed (LMDataConfig(seed=seed))
    steps: int = 2300  # optimizer steps
    lr: float = 2e-2
    seed: int = 0  # initial weights, batch order (and the corpus when `data` is None)
    threads: int = 1  # torch CPU threads while training (small LSTMs ran fastest on one here)

    def train_config(self, device: torch.device | str = "auto", progress: bool = True) -> TrainConfig:
        return TrainConfig(steps=self.steps, lr=self.lr, warmup_steps=0, schedule="linear", grad_clip=1.0,
                           eval_every=max(1, self.steps // 6), monitor="val_loss", seed=self.seed,
                           progress=progress, desc="LSTM LM", device=device)


def pretrained_lstm_lm(settings: LSTMLMSettings | None = None, device: str = "auto",
                       progress: bool = True) -> tuple[LSTMLM, History]:
    """The sentence-level LSTM LM that ``settings`` describes (default: notebook 02's), trained once, then cached.

    Returns ``(model in eval mode, training history)``; see ``course_lib.core.pretrained``.
    """
    return pretrained(LSTMLMSettings() if settings is None else settings, device, progress)
