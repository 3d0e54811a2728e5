"""ELMo's bidirectional language model (biLM), its character encoder, and the scalar mix.

- ``BiLM``: a forward LSTM stack reads a sentence left to right and predicts the next word,
  p(t_k | t_1 .. t_{k-1}); a backward stack with its **own** parameters reads it right to left and
  predicts the previous word, p(t_k | t_{k+1} .. t_N). The token representation (Θx) and the softmax
  (Θs) are **shared** by the two directions. The loss is the joint negative log-likelihood
  (forward NLL + backward NLL). ``<bos>``/``<eos>`` are added around every sentence by the model.
- ``BiLM.layers(word_ids)``: the 2L + 1 representations of every word as L + 1 tensors (B, T, 2D):
  layer 0 = ``[x; x]``, layer j = ``[forward h_j; backward h_j]``, boundary positions removed.
- ``CharEncoder``: the paper's token layer: character embeddings -> CNN with max-pooling -> highway
  layers -> projection to D.
- ``ScalarMix``: ELMo_task = γ · Σ_j softmax(w)_j · h_j.

The frozen feature extractor ``Elmo`` and the downstream heads live in ``course_lib.elmo_heads``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from course_lib.arguments import check_token_ids
from course_lib.elmo.char_encoder import CharEncoder, word_characters
from course_lib.lm import native_lstm
from course_lib.text import Vocab, pad_batch

PAD_ID, UNK_ID, BOS_ID, EOS_ID = Vocab.pad_id, Vocab.unk_id, Vocab.bos_id, Vocab.eos_id


@dataclass
class BiLMConfig:
    vocab_size: int = 751  # len(vocab); pretrained_bilm sets it from the corpus
    hidden_size: int = 128  # D: token representation and every LSTM layer, per direction (128 beat 256 on CPU)
    num_layers: int = 2  # L: LSTM layers per direction (the paper: 2)
    dropout: float = 0.0  # on the token representation, between layers and before the softmax (0.1 was worse
    #   in the short runs of notebook 03: the model sees each sentence about once; a long run needs it)
    tie_embeddings: bool = True  # the shared softmax reuses the word embedding (word encoder only)
    char_encoder: bool = False  # token layer: word embedding (False) or character CNN + highway (True)
    char_embedding_size: int = 16  # character CNN: size of one character vector
    char_filters: tuple[tuple[int, int], ...] = ((1, 32), (2, 32), (3, 64), (4, 64))  # (width, number) pairs
    num_highway: int = 2  # highway layers after the CNN
    max_word_chars: int = 16  # characters per word kept (with the begin/end-of-word marks)
    mkldnn: bool = False  # oneDNN's LSTM kernel or the native one: see course_lib.lm.lstm on which is faster where

    def __post_init__(self) -> None:
        if self.num_layers < 1 or self.hidden_size < 1:
            raise ValueError(f"num_layers and hidden_size must be >= 1, got {self.num_layers}, {self.hidden_size}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        self.char_filters = tuple(tuple(f) for f in self.char_filters)

    @classmethod
    def tiny(cls, vocab_size: int = 20, **changes) -> BiLMConfig:
        return dataclasses.replace(cls(vocab_size=vocab_size, hidden_size=16, num_layers=2, dropout=0.0,
                                       char_filters=((1, 4), (2, 4), (3, 8)), max_word_chars=8), **changes)


class BiLM(nn.Module):
    """ELMo's biLM. ``forward(word_ids (B, T)) -> ((forward_logits, backward_logits), loss)``.

    ``word_ids`` are the words of each sentence, padded with [PAD] = 0, **without** boundary tokens:
    the model wraps each sentence as ``<bos> w_1 .. w_n <eos>``. The forward LM predicts
    w_1 .. w_n, <eos>; the backward LM predicts w_n .. w_1, <bos>: n + 1 predictions each. Both logits
    are (B, T + 1, V), aligned with what each direction predicts. ``loss`` is the forward plus the
    backward mean cross-entropy (nats per predicted token).
    """

    def __init__(self, config: BiLMConfig, vocab: Vocab | None = None) -> None:
        super().__init__()
        self.config, self.vocab = config, vocab
        if vocab is not None and len(vocab) != config.vocab_size:
            raise ValueError(f"config.vocab_size={config.vocab_size} but the vocabulary has {len(vocab)} tokens")
        D, L = config.hidden_size, config.num_layers
        if config.char_encoder:
            words = vocab.itos if vocab is not None else [str(i) for i in range(config.vocab_size)]
            self.register_buffer("word_chars", word_characters(words, config.max_word_chars), persistent=False)
            self.char_encoder = CharEncoder(D, config.char_embedding_size, config.char_filters, config.num_highway)
        else:
            self.embedding = nn.Embedding(config.vocab_size, D)  # Θx, shared by both directions
            nn.init.uniform_(self.embedding.weight, -0.1, 0.1)
        # one nn.LSTM per layer and direction, so that a residual connection can join the layers
        self.forward_layers = nn.ModuleList(nn.LSTM(D, D, batch_first=True) for _ in range(L))
        self.backward_layers = nn.ModuleList(nn.LSTM(D, D, batch_first=True) for _ in range(L))
        self.dropout = nn.Dropout(config.dropout)
        self.softmax = nn.Linear(D, config.vocab_size)  # Θs, shared by both directions
        nn.init.zeros_(self.softmax.bias)
        if config.tie_embeddings and not config.char_encoder:
            self.softmax.weight = self.embedding.weight

    # -- pieces

    def token_representation(self, ids: torch.Tensor) -> torch.Tensor:
        """ids (B, T) -> x (B, T, D): the context-independent layer 0."""
        if self.config.char_encoder:
            return self.char_encoder(self.word_chars[ids])
        return self.embedding(ids)

    def wrap(self, word_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """word_ids (B, T) -> ``<bos> w .. <eos>`` ids (B, T + 2) and the lengths n (B,). Empty rows raise.

        The boundary of every biLM call (``forward``, ``layers``, ``states``): the ids are checked here, once.
        """
        check_token_ids(word_ids, self.config.vocab_size, "word_ids")
        B, T = word_ids.shape
        lengths = (word_ids != PAD_ID).sum(1)  # (B,)
        if (lengths == 0).any():
            rows = (lengths == 0).nonzero().flatten().tolist()
            raise ValueError(f"empty sentence (rows {rows}): the biLM needs at least one word per sentence")
        positions = torch.arange(T, device=word_ids.device)
        if ((word_ids == PAD_ID) & (positions < lengths[:, None])).any():
            raise ValueError("[PAD] inside a sentence: pad only at the end of each row")
        ids = F.pad(word_ids, (1, 1), value=PAD_ID)  # (B, T + 2)
        ids[:, 0] = BOS_ID
        ids[torch.arange(B), lengths + 1] = EOS_ID
        return ids, lengths

    @staticmethod
    def reverse(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Reverse the first ``lengths[b]`` positions of every row of x (B, T, ...); padding stays put."""
        B, T = x.shape[:2]
        t = torch.arange(T, device=x.device).expand(B, T)
        index = torch.where(t < lengths[:, None], lengths[:, None] - 1 - t, t)  # (B, T)
        return x.gather(1, index.view(B, T, *([1] * (x.dim() - 2))).expand_as(x))

    def _stack(self, layers: nn.ModuleList, x: torch.Tensor) -> list[torch.Tensor]:
        """Run one direction's stack; residual connections between LSTM layers. Returns L tensors (B, T, D)."""
        outputs, h = [], x
        with native_lstm(enabled=not self.config.mkldnn):
            for j, lstm in enumerate(layers):
                out, _ = lstm(self.dropout(h) if j > 0 else h)
                h = out + h if j > 0 else out  # residual between LSTM layers (not from the token layer)
                outputs.append(h)
        return outputs

    def states(self, word_ids: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor], list[torch.Tensor], torch.Tensor]:
        """The token layer x and each direction's L layers, all on the wrapped sequence (B, T + 2, D).

        The backward layers are returned in reading order (position k holds the state that has read
        the sentence from its end back to k). Also returns the wrapped ids.
        """
        ids, lengths = self.wrap(word_ids)
        x = self.token_representation(ids)  # (B, T + 2, D)
        n = lengths + 2  # real positions including <bos> and <eos>
        forward = self._stack(self.forward_layers, self.dropout(x))
        backward = self._stack(self.backward_layers, self.dropout(self.reverse(x, n)))
        backward = [self.reverse(h, n) for h in backward]
        return x, forward, backward, ids

    # -- the language models

    def forward(self, word_ids: torch.Tensor) -> tuple[tuple[torch.Tensor, torch.Tensor], torch.Tensor]:
        _, forward, backward, ids = self.states(word_ids)
        fwd_logits = self.softmax(self.dropout(forward[-1][:, :-1]))  # position k predicts ids[k + 1]
        bwd_logits = self.softmax(self.dropout(backward[-1][:, 1:]))  # position k + 1 predicts ids[k]
        loss = self.direction_losses(fwd_logits, bwd_logits, ids)
        return (fwd_logits, bwd_logits), loss[0] + loss[1]

    @staticmethod
    def direction_losses(fwd_logits: torch.Tensor, bwd_logits: torch.Tensor, ids: torch.Tensor
                         ) -> tuple[torch.Tensor, torch.Tensor]:
        fwd_targets = ids[:, 1:]  # w_1 .. w_n, <eos>, [PAD]...
        bwd_targets = ids[:, :-1].masked_fill(ids[:, :-1] == EOS_ID, PAD_ID)  # <bos>, w_1 .. w_n; <eos> not a target
        f = F.cross_entropy(fwd_logits.flatten(0, 1), fwd_targets.flatten(), ignore_index=PAD_ID)
        b = F.cross_entropy(bwd_logits.flatten(0, 1), bwd_targets.flatten(), ignore_index=PAD_ID)
        return f, b

    def layers(self, word_ids: torch.Tensor) -> list[torch.Tensor]:
        """The L + 1 representations (B, T, 2D) of every word: ``[x; x]`` then ``[forward h_j; backward h_j]``.

        Boundary positions (<bos>, <eos>) are removed, so position k is word k of ``word_ids``; padded
        positions hold zeros. The forward half at k has read words <= k only, the backward half >= k only.
        """
        x, forward, backward, ids = self.states(word_ids)
        B, T = word_ids.shape
        keep = (word_ids != PAD_ID)[..., None]  # (B, T, 1)
        out = [torch.cat([x, x], dim=-1)] + [torch.cat([f, b], dim=-1) for f, b in zip(forward, backward, strict=True)]
        return [h[:, 1 : T + 1] * keep for h in out]  # each (B, T, 2D)

    # -- words in, numbers out

    def _words(self) -> Vocab:
        if self.vocab is None:
            raise ValueError("this BiLM has no vocabulary: build it as BiLM(config, vocab)")
        return self.vocab

    def encode(self, sentences: Sequence[Sequence[str]]) -> torch.Tensor:
        """Sentences of words -> word_ids (B, T) padded with [PAD]; unknown words become [UNK].

        An empty sentence raises ``ValueError``. A sentence of only unknown words is allowed: every
        word reads as [UNK], so its vectors carry only what the context of [UNK]s tells.
        """
        vocab = self._words()
        for i, s in enumerate(sentences):
            if isinstance(s, str) or len(s) == 0:
                raise ValueError(f"sentence {i} is {'a string' if isinstance(s, str) else 'empty'}: "
                                 "pass a non-empty list of words")
        ids, _ = pad_batch([vocab.encode(list(s)) for s in sentences], PAD_ID)
        return ids.to(self.softmax.weight.device)

    @torch.no_grad()
    def perplexities(self, sentences: Sequence[Sequence[str]], batch_size: int = 256) -> tuple[float, float]:
        """Held-out (forward, backward) perplexity, each sentence read on its own; <eos>/<bos> counted once."""
        was_training = self.training
        self.eval()
        totals, count = torch.zeros(2, dtype=torch.float64), 0
        for start in range(0, len(sentences), batch_size):
            chunk = sentences[start : start + batch_size]
            (fwd, bwd), _ = self(self.encode(chunk))
            ids, _ = self.wrap(self.encode(chunk))
            f, b = self.direction_losses(fwd, bwd, ids)
            n = sum(len(s) + 1 for s in chunk)
            totals += torch.tensor([f.item(), b.item()], dtype=torch.float64) * n
            count += n
        self.train(was_training)
        ppl = (totals / count).exp()
        return float(ppl[0]), float(ppl[1])
