"""Run in a child process by tests/test_cache.py: train (or load) models through the cache, print their hashes.

    python -m tests.support.cache_child determinism <rng seed>   every recipe, tiny, in an empty cache
    python -m tests.support.cache_child slow <log file>          the SlowRecipe below (the concurrency test)
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
import time
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch
from torch import nn

from course_lib.arguments import check_fields
from course_lib.bert import ToyBertSettings, pretrained_toy_bert
from course_lib.core import History, Recipe, TrainConfig, fit, pretrained
from course_lib.elmo import BiLMConfig, BiLMSettings
from course_lib.gpt import GPTConfig, GPTSettings
from course_lib.lm import LMDataConfig, LSTMLMConfig, LSTMLMSettings


def digest(model: nn.Module) -> str:
    h = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


TINY_DATA = LMDataConfig(train_documents=4, validation_sentences=5, batch_size=4)
TINY_BERT = dict(steps=2, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, vocab_size=300,
                 num_documents=40, batch_size=8, evaluations=1)


def tiny_recipes() -> dict[str, Recipe]:
    """Every recipe of the course, at a size that trains in a second."""
    return {
        "lstm-lm": LSTMLMSettings(model=LSTMLMConfig(embedding_size=16, hidden_size=16, num_layers=1),
                                  data=TINY_DATA, steps=3),
        "bilm": BiLMSettings(model=BiLMConfig(hidden_size=16, num_layers=1), data=TINY_DATA, steps=3,
                             warmup_steps=1),
        "gpt": GPTSettings(model=GPTConfig(hidden_size=16, num_layers=1, num_heads=2, intermediate_size=32),
                           data=TINY_DATA, steps=3),
        **{f"toy-bert {o}": ToyBertSettings(objective=o, **TINY_BERT) for o in ("mlm+nsp", "mlm", "ltr")},
    }


@dataclass(frozen=True)
class SlowRecipe(Recipe):
    """A tiny regression whose training logs each run to a file and takes a moment (so two processes overlap)."""

    name: ClassVar[str] = "slow"
    log: str = ""
    seconds: float = 1.5
    seed: int = 0
    threads: int = 1

    def __post_init__(self) -> None:
        check_fields(self)

    def build(self) -> nn.Module:
        return Regressor()

    def train(self, model: nn.Module, device: torch.device, progress: bool) -> History:
        with open(self.log, "a") as f:
            f.write("trained\n")
        time.sleep(self.seconds)
        x = torch.randn(16, 4)
        return fit(model, [(x, x.sum(1, keepdim=True))], TrainConfig(steps=3, progress=False, device=device))


class Regressor(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(4, 1)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None):
        out = self.linear(x)
        return out, None if y is None else ((out - y) ** 2).mean()


def main() -> None:
    mode, arg = sys.argv[1], sys.argv[2]
    if mode == "determinism":
        seed = int(arg)  # a different global random state in each process: it must not matter
        torch.manual_seed(seed)
        random.seed(seed)
        np.random.seed(seed)
        torch.randn(seed + 1)
        out = {}
        for name, settings in tiny_recipes().items():
            if isinstance(settings, ToyBertSettings):
                model, _, _ = pretrained_toy_bert(settings, device="cpu", progress=False)
            else:
                model, _ = pretrained(settings, device="cpu", progress=False)
            out[name] = digest(model)
        print(json.dumps(out))
    elif mode == "slow":
        model, _ = pretrained(SlowRecipe(log=arg, seconds=4.0), device="cpu", progress=False)
        print(json.dumps({"slow": digest(model)}))
    else:
        raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
