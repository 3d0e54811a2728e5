"""The biLM of notebook 03, trained with the course's loop and cached.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import torch
from torch import nn

from course_lib.core import History, TrainConfig, fit, pretrained
from course_lib.elmo.bilm import PAD_ID, BiLM, BiLMConfig
from course_lib.lm import LMDataConfig, LMRecipe
from course_lib.lm.ngram import token_lists
from course_lib.text import length_buckets, pad_batch


def bilm_batches(sentences: Sequence[Sequence[str]], bilm: BiLM, batch_size: int = 64, seed: int = 0
                 ) -> Callable[[], Iterator[dict]]:
    """One epoch of ``{"word_ids": (B, T)}`` per call, in length buckets, reshuffled each epoch from ``seed``."""
    vocab = bilm._words()
    encoded = [vocab.encode(list(s)) for s in sentences if len(s) > 0]
    if not encoded:
        raise ValueError("no sentences to train on")
    lengths = [len(e) for e in encoded]
    generator = torch.Generator().manual_seed(seed)

    def epoch() -> Iterator[dict]:
        for idx in length_buckets(lengths, batch_size, shuffle=True, generator=generator):
            yield {"word_ids": pad_batch([encoded[i] for i in idx], PAD_ID)[0]}

    return epoch


def train_bilm(model: BiLM, train_sentences: Sequence[Sequence[str]], validation_sentences: Sequence[Sequence[str]],
               config: TrainConfig, batch_size: int = 64) -> History:
    """Train with ``course_lib.core.fit``; ``val_loss`` is the mean of the two directions' nats per token."""
    batches = bilm_batches(train_sentences, model, batch_size, seed=config.seed or 0)

    def evaluate(m: BiLM) -> dict[str, float]:
        f, b = m.perplexities(validation_sentences)
        return {"val_loss": (torch.tensor([f, b]).log().mean()).item(), "forward_ppl": f, "backward_ppl": b}

    return fit(model, batches, config, evaluate=evaluate)


@dataclass(frozen=True)
class BiLMSettings(LMRecipe):
    """The biLM of notebook 03 (and the deeper or shallower ones of notebook 04's depth experiment).

    Adam at ``lr`` with ``warmup_steps`` of warm-up, decayed linearly to 0, clipped at 1 (as the LSTM LM of
    notebook 02). On the toy world 2e-2 and 3e-2 reached the same perplexity in 800 steps; 8e-3 was clearly slower.
    """

    name: ClassVar[str] = "bilm"
    model_class: ClassVar[type[nn.Module]] = BiLM
    model: BiLMConfig = field(default_factory=BiLMConfig)
    data: LMDataConfig | None = None  # None: the toy world with this seed (LMDataConfig(seed=seed))
    steps: int = 1000
    lr: float = 2e-2
    warmup_steps: int = 100
    seed: int = 0
    threads: int = 1  # small LSTMs trained fastest on one thread here

    def train_config(self, device: torch.device | str = "auto", progress: bool = True) -> TrainConfig:
        return TrainConfig(steps=self.steps, lr=self.lr, warmup_steps=self.warmup_steps, schedule="linear",
                           grad_clip=1.0, eval_every=max(1, self.steps // 5), monitor="val_loss", seed=self.seed,
                           progress=progress, desc="biLM", device=device)

    def train(self, model: nn.Module, device: torch.device, progress: bool) -> History:
        sentences = token_lists(self.train_sentences())
        return train_bilm(model, sentences, self.held_out(), self.train_config(device, progress),
                          self.data.batch_size)


def pretrained_bilm(settings: BiLMSettings | None = None, device: str = "auto",
                    progress: bool = True) -> tuple[BiLM, History]:
    """The biLM that ``settings`` describes (default: notebook 03's), trained once, then read from the cache."""
    return pretrained(BiLMSettings() if settings is None else settings, device, progress)
