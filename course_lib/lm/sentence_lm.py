"""What every sentence-level language model of the course shares: scoring sentences and generating them.

``SentenceLM`` is the base of ``LSTMLM`` (notebook 02) and ``GPT`` (notebook 12). A subclass has a ``vocab``
(``course_lib.text.Vocab``) and a ``forward(input_ids (B, T)) -> (logits (B, T, V), loss)``, and says how to
take one generation step (``next_token_logits``: the LSTM carries its state, the GPT re-reads the sequence).
Written once here:

- ``token_logprobs(sentences)``: log p(w_t | <bos> w_1 .. w_{t-1}) for every word and the final <eos>, each
  sentence read on its own from <bos> (what the toy world's exact bound assumes), so
  ``course_lib.lm.perplexity`` scores every model the same way;
- ``generate(model, prompt, ...)``: greedy, temperature and top-k sampling, seeded;
- ``sample(n)``: whole sentences from <bos> to <eos>, as words.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from course_lib.arguments import check_int, check_token_ids, checked_inputs
from course_lib.text import Vocab, pad_batch


class SentenceLM(nn.Module):
    """Base of the course's sentence-level language models (see the module docstring)."""

    vocab: Vocab | None
    pad_token_id: int = 0  # Vocab.pad_id: what a finished row is filled with
    max_positions: int | None = None  # the longest sequence the model can read (None: any)

    def _words(self) -> Vocab:
        if self.vocab is None:
            raise ValueError(f"this {type(self).__name__} has no vocabulary: build it as "
                             f"{type(self).__name__}(config, vocab)")
        return self.vocab

    @property
    def vocab_size(self) -> int:
        return self.config.vocab_size

    def next_token_logits(self, ids: Tensor, state: Any = None) -> tuple[Tensor, Any]:
        """ids (B, T) -> the logits of the token after ``ids`` (B, V) and a state for the next call.

        Default: re-read the whole sequence (no state). Recurrent models read only the new token.
        """
        logits, _ = self(ids)
        return logits[:, -1], None

    @torch.no_grad()
    def token_logprobs(self, sentences: Sequence[Sequence[str]], batch_size: int = 512) -> list[np.ndarray]:
        """log p(w_t | <bos> w_1 .. w_{t-1}) for each word and the final <eos> of each sentence.

        Each sentence is read on its own from <bos>; right padding needs no mask, since the logits at a
        position never depend on later ones. One float64 array of ``len(sentence) + 1`` entries per sentence.
        """
        vocab, was_training = self._words(), self.training
        self.eval()
        encoded = [[vocab.bos_id, *vocab.encode(list(s)), vocab.eos_id] for s in sentences]
        device = next(self.parameters()).device
        out: list[np.ndarray] = []
        for start in range(0, len(encoded), batch_size):
            chunk = encoded[start:start + batch_size]
            ids, _ = pad_batch(chunk, vocab.pad_id)  # (B, T + 1)
            ids = ids.to(device)
            logits, _ = self(ids[:, :-1])  # (B, T, V)
            logp = logits.float().log_softmax(-1).gather(-1, ids[:, 1:, None]).squeeze(-1).double().cpu()
            out.extend(logp[i, : len(seq) - 1].numpy() for i, seq in enumerate(chunk))
        self.train(was_training)
        return out

    @torch.no_grad()
    def sample(self, num_sentences: int, max_length: int = 30, temperature: float | str = 1.0,
               top_k: int | None = None, generator: torch.Generator | int | None = None) -> list[list[str]]:
        """Sentences drawn from <bos> until <eos> (or ``max_length`` words, or the last position), as words.

        Special tokens other than <eos> are never drawn. ``generator`` (a CPU generator or a seed) makes the
        draw repeatable; ``temperature`` and ``top_k`` as in ``generate``.
        """
        vocab = self._words()
        check_int(num_sentences, "num_sentences", minimum=1)
        check_int(max_length, "max_length", minimum=1)
        prompt = torch.full((num_sentences, 1), vocab.bos_id, dtype=torch.long)
        suppress = sorted(vocab.special_ids - {vocab.eos_id})
        ids = generate(self, prompt, max_length + 1, temperature, top_k, generator, vocab.eos_id, suppress)
        out = []
        for row in ids[:, 1:].tolist():
            cut = row.index(vocab.eos_id) if vocab.eos_id in row else min(len(row), max_length)
            out.append(vocab.decode(row[:cut]))
        return out


def _next_token(logits: Tensor, temperature: float | str, top_k: int | None,
                generator: torch.Generator | None) -> Tensor:
    """logits (B, V) -> next ids (B, 1): argmax when greedy, else a draw from softmax(logits / temperature)."""
    if temperature == "greedy" or temperature == 0:
        return logits.argmax(-1, keepdim=True)
    if top_k is not None and top_k < logits.shape[-1]:
        kth = logits.topk(top_k, dim=-1).values[:, -1:]  # (B, 1): the k-th largest logit of each row
        logits = logits.masked_fill(logits < kth, -math.inf)
    probs = torch.softmax(logits.float() / temperature, -1).cpu()  # a CPU draw: the same on every device
    return torch.multinomial(probs, 1, generator=generator).to(logits.device)  # (B, 1)


def _check_sampling(temperature: float | str, top_k: int | None, max_new_tokens: int) -> None:
    if isinstance(temperature, str):
        if temperature != "greedy":
            raise ValueError(f"temperature must be a number >= 0 or 'greedy', got {temperature!r}")
    elif not (isinstance(temperature, (int, float)) and not isinstance(temperature, bool)
              and math.isfinite(temperature) and temperature >= 0):
        raise ValueError(f"temperature must be a finite number >= 0 (0 = greedy), got {temperature!r}: a negative "
                         "temperature would make the likeliest token the rarest")
    if top_k is not None and (not isinstance(top_k, int) or isinstance(top_k, bool) or top_k < 1):
        raise ValueError(f"top_k must be None or an int >= 1, got {top_k!r}")
    if not isinstance(max_new_tokens, int) or isinstance(max_new_tokens, bool) or max_new_tokens < 0:
        raise ValueError(f"max_new_tokens must be an int >= 0, got {max_new_tokens!r}")


@torch.no_grad()
def generate(model: SentenceLM, prompt_ids: Sequence[int] | Tensor, max_new_tokens: int,
             temperature: float | str = 1.0, top_k: int | None = None,
             generator: torch.Generator | int | None = None, eos_id: int | None = None,
             suppress_ids: Sequence[int] = ()) -> Tensor:
    """Continue a prompt token by token: the prompt followed by at most ``max_new_tokens`` new ids.

    ``prompt_ids``: a list of ids or a LongTensor (T,) or (B, T). ``temperature``: 0 or ``"greedy"`` picks
    the most probable token; otherwise the next token is drawn from softmax(logits / temperature),
    among the ``top_k`` most probable ones when given. ``generator`` (a CPU ``torch.Generator`` or an int
    seed) makes the draw repeatable. Generation stops after ``max_new_tokens``, when the sequence fills
    ``model.max_positions``, or when every row has produced ``eos_id``; a row that has ended is filled with
    ``model.pad_token_id``. ``suppress_ids`` are never produced. Returns ids of the prompt's dimensionality:
    (T + n,) or (B, T + n) with n <= max_new_tokens.
    """
    if not isinstance(model, SentenceLM):
        raise TypeError(f"generate needs a course_lib language model (LSTMLM, GPT), got {type(model).__name__}")
    _check_sampling(temperature, top_k, max_new_tokens)
    ids = torch.as_tensor(prompt_ids)
    if ids.numel() == 0:
        raise ValueError("prompt_ids is empty: give at least one token (e.g. <bos>)")
    one = ids.dim() == 1
    ids = check_token_ids(ids[None] if one else ids, model.vocab_size, "prompt_ids", model.max_positions).long()
    B, T = ids.shape
    P = model.max_positions
    if isinstance(generator, int):
        generator = torch.Generator().manual_seed(generator)
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    ids = ids.to(device)
    suppress = torch.as_tensor(list(suppress_ids), dtype=torch.long, device=device)
    finished = torch.zeros(B, dtype=torch.bool, device=device)
    steps = max_new_tokens if P is None else min(max_new_tokens, P - T)
    state = None
    with checked_inputs():  # the prompt is checked above and each new id comes from the model: no check per step
        for _ in range(steps):
            logits, state = model.next_token_logits(ids, state)
            logits = logits.float()  # (B, V): the prediction of the next position
            logits[:, suppress] = -math.inf
            new = _next_token(logits, temperature, top_k, generator)  # (B, 1)
            new = new.masked_fill(finished[:, None], model.pad_token_id)
            ids = torch.cat([ids, new], dim=1)  # (B, T + 1)
            if eos_id is not None:
                finished |= new[:, 0] == eos_id
                if finished.all():
                    break
    model.train(was_training)
    return ids[0] if one else ids
