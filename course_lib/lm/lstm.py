"""The LSTM: one cell written out gate by gate, and a stacked LSTM language model built on ``nn.LSTM``.

- ``LSTMCell`` is the teaching version: the four gate equations in plain tensor code, with the same
  parameter names and layout as ``torch.nn.LSTM`` (gates stacked i, f, g, o), so weights copy across
  and the two agree to float precision (``unroll`` runs it over a sequence).
- ``LSTMLM`` is the model the course trains: embedding -> dropout -> ``nn.LSTM`` (L layers) -> dropout
  -> a softmax over the vocabulary, optionally tied to the embedding. ``logits_and_state`` takes and
  returns the recurrent state, which is what truncated back-propagation through time carries over.
- ``native_lstm()`` switches torch's oneDNN (mkldnn) LSTM kernel off for a block; ``LSTMLMConfig.mkldnn`` and
  ``BiLMConfig.mkldnn`` choose the kernel. Which one is faster depends on the CPU, the shapes and what else runs:
  on the course's machines oneDNN has been from 4x slower (an early machine, hidden size 256) to 1.2-1.5x
  faster. On 2026-12-04 (2-core AMD EPYC, one thread, 2 x 128, batch 64, median training step) oneDNN took
  13.1 vs 15.4 ms for the LSTM LM and 51 vs 61 ms for the biLM. ``LSTMLM`` uses oneDNN, the biLM the native
  kernel (its cached model and notebook 03's numbers were made so); re-measure with ``benchmarks/bench_lm.py``.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from course_lib.arguments import check_labels, check_token_ids, checked_inputs, should_check
from course_lib.lm.sentence_lm import SentenceLM

State = tuple[torch.Tensor, torch.Tensor]  # (h, c), each (L, B, H) for a stack, (B, H) for one cell


class LSTMCell(nn.Module):
    """One LSTM step: ``(x_t, (h, c)) -> (h_t, c_t)``; x (B, I), h and c (B, H).

    Parameters are named and laid out as in ``nn.LSTM`` layer 0 (``weight_ih`` (4H, I), ``weight_hh``
    (4H, H), ``bias_ih``, ``bias_hh`` (4H)), so ``cell.load_from(lstm, layer=k)`` copies layer k.
    """

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        self.weight_ih = nn.Parameter(torch.empty(4 * hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(4 * hidden_size, hidden_size))
        self.bias_ih = nn.Parameter(torch.empty(4 * hidden_size))
        self.bias_hh = nn.Parameter(torch.empty(4 * hidden_size))
        bound = 1 / math.sqrt(hidden_size)  # nn.LSTM's initialization: U(-1/sqrt(H), 1/sqrt(H))
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def forward(self, x: torch.Tensor, state: State | None = None) -> State:
        B, _ = x.shape
        if state is None:
            zeros = x.new_zeros(B, self.hidden_size)
            state = (zeros, zeros)
        h, c = state
        gates = x @ self.weight_ih.T + self.bias_ih + h @ self.weight_hh.T + self.bias_hh  # (B, 4H)
        i, f, g, o = gates.chunk(4, dim=-1)  # each (B, H)
        i = torch.sigmoid(i)  # input gate   i_t = σ(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi): how much to write
        f = torch.sigmoid(f)  # forget gate  f_t = σ(W_if x_t + b_if + W_hf h_{t-1} + b_hf): how much to keep
        g = torch.tanh(g)  # candidate       g_t = tanh(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg): what to write
        o = torch.sigmoid(o)  # output gate  o_t = σ(W_io x_t + b_io + W_ho h_{t-1} + b_ho): how much to show
        c = f * c + i * g  # memory cell     c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t (the additive path gradients ride on)
        h = o * torch.tanh(c)  # hidden      h_t = o_t ⊙ tanh(c_t)
        return h, c

    @torch.no_grad()
    def load_from(self, lstm: nn.LSTM, layer: int = 0) -> LSTMCell:
        """Copy layer ``layer`` of a (unidirectional, biased) ``nn.LSTM`` into this cell."""
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(self, name).copy_(getattr(lstm, f"{name}_l{layer}"))
        return self


def unroll(cells: list[LSTMCell] | LSTMCell, x: torch.Tensor, state: State | None = None
           ) -> tuple[torch.Tensor, State]:
    """Run a stack of cells over a sequence, one time step after the other: what ``nn.LSTM`` computes.

    x (B, T, I) -> outputs of the top layer (B, T, H) and the final state (h, c), each (L, B, H).
    """
    cells = [cells] if isinstance(cells, LSTMCell) else list(cells)
    B, T, _ = x.shape
    hs = [None] * len(cells) if state is None else list(zip(state[0], state[1], strict=True))
    outputs = []
    for t in range(T):  # the loop that cannot be parallelized: step t needs the state of step t - 1
        inp = x[:, t]
        for k, cell in enumerate(cells):
            hs[k] = cell(inp, hs[k])
            inp = hs[k][0]
        outputs.append(inp)
    h = torch.stack([s[0] for s in hs])  # (L, B, H)
    c = torch.stack([s[1] for s in hs])  # (L, B, H)
    return torch.stack(outputs, dim=1), (h, c)


@contextlib.contextmanager
def native_lstm(enabled: bool = True) -> Iterator[None]:
    """Run LSTMs with torch's native CPU kernels instead of oneDNN (mkldnn) inside this block.

    Only the oneDNN switch changes; its other flags are left alone (``flags()`` would also set TF32).
    """
    if not enabled:
        yield
        return
    with torch.backends.mkldnn.flags(enabled=False, deterministic=None, allow_tf32=None, fp32_precision=None):
        yield


@dataclass
class LSTMLMConfig:
    vocab_size: int = 811  # len(vocab): the toy world's 804 words + 7 special tokens (pretrained_lstm_lm sets it)
    embedding_size: int = 128  # E: size of a word vector
    hidden_size: int = 128  # H: size of h and c in every layer (128 beat 256 within a CPU minute)
    num_layers: int = 2  # L: stacked LSTM layers
    dropout: float = 0.0  # on the embeddings, between layers, before the softmax (0.1 did worse on the toy world)
    tie_embeddings: bool = True  # the softmax reuses the embedding matrix (needs E == H)
    mkldnn: bool = True  # oneDNN's LSTM kernel (False: the native one); see the module docstring on speed

    def __post_init__(self) -> None:
        if self.tie_embeddings and self.embedding_size != self.hidden_size:
            raise ValueError(f"tie_embeddings needs embedding_size == hidden_size, got "
                             f"{self.embedding_size} and {self.hidden_size}: untie them or make them equal")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")

    @classmethod
    def tiny(cls, vocab_size: int = 20) -> LSTMLMConfig:
        # native kernel: oneDNN's first steps at new tiny shapes took seconds (once 28 s CPU) to set up
        return cls(vocab_size=vocab_size, embedding_size=32, hidden_size=32, num_layers=2, dropout=0.0,
                   mkldnn=False)


class LSTMLM(SentenceLM):
    """A stacked LSTM language model: p(w_t | w_1 .. w_{t-1}) for every position at once.

    ``forward(input_ids (B, T), targets (B, T) | None, state) -> (logits (B, T, V), loss | None)``;
    targets equal to ``ignore_index`` ([PAD] = 0) do not count in the mean cross-entropy.
    ``vocab`` (optional) lets ``token_logprobs`` and ``sample`` in ``course_lib.lm`` work on words.
    """

    ignore_index = 0  # Vocab.pad_id

    def __init__(self, config: LSTMLMConfig, vocab=None) -> None:
        super().__init__()
        self.config, self.vocab = config, vocab
        if vocab is not None and len(vocab) != config.vocab_size:
            raise ValueError(f"config.vocab_size={config.vocab_size} but the vocabulary has {len(vocab)} tokens")
        self.embedding = nn.Embedding(config.vocab_size, config.embedding_size)
        self.lstm = nn.LSTM(config.embedding_size, config.hidden_size, config.num_layers, batch_first=True,
                            dropout=config.dropout if config.num_layers > 1 else 0.0)
        self.dropout = nn.Dropout(config.dropout)
        self.decoder = nn.Linear(config.hidden_size, config.vocab_size)
        nn.init.uniform_(self.embedding.weight, -0.1, 0.1)
        nn.init.zeros_(self.decoder.bias)
        if config.tie_embeddings:
            self.decoder.weight = self.embedding.weight  # one (V, H) matrix reads words in and scores them out

    def check_inputs(self, input_ids: torch.Tensor, targets: torch.Tensor | None = None) -> None:
        """Raise, naming the argument, unless input_ids (B, T) are ids of the vocabulary and targets fit them."""
        check_token_ids(input_ids, self.config.vocab_size, "input_ids")
        if targets is not None:
            check_labels(targets, self.config.vocab_size, "targets", tuple(input_ids.shape),
                         "the vocabulary size (config.vocab_size)", shape_name="the shape of input_ids")

    def logits_and_state(self, input_ids: torch.Tensor, state: State | None = None
                         ) -> tuple[torch.Tensor, State]:
        """input_ids (B, T) -> logits (B, T, V) and the final state (h, c), each (L, B, H)."""
        if should_check():  # once per call: ``generate`` reads one token per step without checking it again
            self.check_inputs(input_ids)
        B, T = input_ids.shape
        x = self.dropout(self.embedding(input_ids))  # (B, T, E)
        with native_lstm(enabled=not self.config.mkldnn):
            h, state = self.lstm(x, state)  # (B, T, H)
        return self.decoder(self.dropout(h)), state  # (B, T, V)

    def loss(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Mean cross-entropy (nats per predicted token) over the targets that are not [PAD]."""
        return F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=self.ignore_index)

    def forward(self, input_ids: torch.Tensor, targets: torch.Tensor | None = None,
                state: State | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        if should_check():
            self.check_inputs(input_ids, targets)
        with checked_inputs():
            logits, _ = self.logits_and_state(input_ids, state)
        return logits, (None if targets is None else self.loss(logits, targets))

    def next_token_logits(self, ids: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        """One generation step: the first call reads the whole prompt, later ones only the newest token."""
        logits, state = self.logits_and_state(ids if state is None else ids[:, -1:], state)
        return logits[:, -1], state


def detach_state(state: State) -> State:
    """Cut the graph behind the state: gradients stop at the chunk boundary (truncated BPTT)."""
    return tuple(s.detach() for s in state)  # type: ignore[return-value]


def tbptt_step(model: LSTMLM, batch: dict, state: State | None) -> tuple[torch.Tensor, State]:
    """A ``course_lib.train.fit`` step for truncated back-propagation through time.

    The state that ends one chunk starts the next (the model keeps reading the same streams), but
    detached, so back-propagation stops at the chunk boundary. ``batch["reset"]`` (first chunk of an
    epoch) starts from zeros again.
    """
    if batch.get("reset", False):
        state = None
    if should_check():
        model.check_inputs(batch["input_ids"], batch["targets"])
    with checked_inputs():
        logits, state = model.logits_and_state(batch["input_ids"], state)
    return model.loss(logits, batch["targets"]), detach_state(state)
