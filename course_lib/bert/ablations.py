"""BERT's ablations at toy scale: the same network pre-trained with other objectives, directions and sizes.

The BERT paper backs its design with ablations (its section 5): without next-sentence prediction;
left-to-right (LTR) without the masked LM, i.e. a GPT-style model; LTR with a randomly initialised BiLSTM
on top for fine-tuning; and bigger or smaller models. ``pretrained_ablation`` pre-trains each of them
on the toy world with *everything else* equal to notebook 09's toy BERT: the WordPiece tokenizer
(``toy_wordpiece``), the config (``toy_bert_config``), the PPMI initialisation of the word embeddings
(``ppmi_word_embeddings``), the batches of NSP pairs with 15 % masking (``pretraining_batches``) and the
training loop and recipe (``course_lib.train.fit``, AdamW, warm-up then linear decay). Only the loss differs:

- ``"mlm+nsp"``: BERT's own (``pretraining_step``);
- ``"mlm"``: the masked LM alone (the NSP head never learns);
- ``"ltr"``: a **causal** encoder (``CausalBertModel``: position t attends to 0 .. t) trained to predict
  the next token of the unmasked input, as GPT; no MLM, no NSP.

``CausalBertModel`` is a ``BertModel`` (same weights and names) whose layers get the causal mask, also
when it is fine-tuned (the paper kept the left-only constraint at fine-tuning too); its pooler reads the
last real token, the only one that has read the whole input. ``with_bilstm`` puts a fresh BiLSTM on top
of a (causal) encoder, so a left-to-right model can be fine-tuned with right context again.

>>> model, tokenizer, history = pretrained_ablation("ltr", steps=400)   # cached after the first call  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from course_lib.attention import causal_mask, combine_masks, padding_mask
from course_lib.bert.model import BertConfig, BertForPreTraining, BertModel, BertModelOutput
from course_lib.bert.pretraining import pretraining_accuracy, pretraining_batches, pretraining_step
from course_lib.bert.toy import ppmi_word_embeddings, toy_bert_config, toy_wordpiece
from course_lib.text.collate import IGNORE_INDEX

OBJECTIVES = ("mlm+nsp", "mlm", "ltr")


class CausalBertModel(BertModel):
    """A ``BertModel`` read left to right: every layer gets the causal mask (and the padding mask).

    The pooler reads the *last* real token (GPT's classifier does the same): under the causal mask
    [CLS], at position 0, sees only itself. ``forward`` takes and returns what ``BertModel.forward`` does.
    """

    def forward(self, input_ids: Tensor, token_type_ids: Tensor | None = None, attention_mask: Tensor | None = None,
                output_attentions: bool = False) -> tuple[BertModelOutput, None]:
        B, T = input_ids.shape
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        mask = combine_masks(causal_mask(T, device=input_ids.device), padding_mask(attention_mask))  # (B, 1, T, T)
        x = self.embeddings(input_ids, token_type_ids)  # (B, T, H)
        x, weights = self.encode(x, mask, attention_mask, output_attentions)
        last = attention_mask.long().sum(1).clamp(min=1) - 1  # (B,): the last real token
        pooled = self.pooler(x[torch.arange(B, device=x.device), last][:, None])  # (B, H)
        return BertModelOutput(x, pooled, weights if output_attentions else None), None

    def encode(self, x: Tensor, mask: Tensor, attention_mask: Tensor, output_attentions: bool
               ) -> tuple[Tensor, list[Tensor]]:
        """The encoder layers on the embeddings x (B, T, H); subclasses add to it (``with_bilstm``)."""
        return self.encoder(x, mask, output_attentions)


class BiLSTMOnTop(CausalBertModel):
    """A causal encoder with a randomly initialised BiLSTM (H/2 per direction) on its last layer.

    The BiLSTM runs over the real tokens only (packed), so its backward half gives each token its right
    context again: the paper's "LTR & No NSP + BiLSTM" row.
    """

    def __init__(self, config: BertConfig) -> None:
        super().__init__(config)
        self.bilstm = nn.LSTM(config.hidden_size, config.hidden_size // 2, batch_first=True, bidirectional=True)

    def encode(self, x: Tensor, mask: Tensor, attention_mask: Tensor, output_attentions: bool
               ) -> tuple[Tensor, list[Tensor]]:
        x, weights = self.encoder(x, mask, output_attentions)  # (B, T, H)
        lengths = attention_mask.long().sum(1).clamp(min=1).cpu()
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        out, _ = self.bilstm(packed)
        out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])  # (B, T, H)
        return out, weights


def with_bilstm(encoder: BertModel, seed: int = 0) -> BiLSTMOnTop:
    """A copy of ``encoder``'s weights (read left to right) with a new BiLSTM on top (its init follows ``seed``)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = BiLSTMOnTop(encoder.config)
    model.load_state_dict(encoder.state_dict(), strict=False)  # everything but the BiLSTM
    return model.to(next(encoder.parameters()).device)


class CausalBertForPreTraining(BertForPreTraining):
    """``BertForPreTraining`` with a ``CausalBertModel`` inside (the decoder stays tied to its embeddings)."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__(config)
        self.bert = CausalBertModel(config)
        self.cls.predictions.decoder.weight = self.bert.embeddings.word_embeddings.weight


def _unmasked(batch: dict[str, Tensor]) -> Tensor:
    """The original ids of a masked pre-training batch: the labels hold them where a token was selected."""
    return torch.where(batch["labels"] != IGNORE_INDEX, batch["labels"], batch["input_ids"])


def _next_token_logits(model: BertForPreTraining, batch: dict[str, Tensor]) -> tuple[Tensor, Tensor]:
    """(N, V) logits and (N,) targets: each real token predicts the next one (N such positions)."""
    ids = _unmasked(batch)
    out, _ = model.bert(ids, batch.get("token_type_ids"), batch["attention_mask"])
    keep = batch["attention_mask"][:, 1:].bool()  # (B, T - 1): the next token is real
    h = out.last_hidden_state[:, :-1][keep]  # (N, H)
    return model.cls.predictions(h), ids[:, 1:][keep]


def ablation_step(objective: str):
    """The step function of ``course_lib.train.fit`` for one pre-training objective (see ``OBJECTIVES``)."""
    if objective == "mlm+nsp":
        return pretraining_step
    if objective == "mlm":
        def mlm_step(model, batch, state=None):
            out, _ = model.bert(batch["input_ids"], batch.get("token_type_ids"), batch.get("attention_mask"))
            selected = batch["labels"] != IGNORE_INDEX  # (B, T)
            mlm = model.cls.predictions(out.last_hidden_state[selected])  # (N, V)
            return F.cross_entropy(mlm, batch["labels"][selected]), state
        return mlm_step
    if objective == "ltr":
        def ltr_step(model, batch, state=None):
            logits, targets = _next_token_logits(model, batch)
            return F.cross_entropy(logits, targets), state
        return ltr_step
    raise ValueError(f"objective must be one of {OBJECTIVES}, got {objective!r}")


@torch.no_grad()
def next_token_accuracy(model: BertForPreTraining, batches) -> dict[str, float]:
    """Held-out ``next_token_accuracy`` and ``val_loss`` (nats per predicted token) of a left-to-right model."""
    correct = total = 0
    loss = 0.0
    device = next(model.parameters()).device
    for batch in batches:
        logits, targets = _next_token_logits(model, {k: v.to(device) for k, v in batch.items()})
        correct += (logits.argmax(-1) == targets).sum().item()
        loss += F.cross_entropy(logits, targets, reduction="sum").item()
        total += len(targets)
    return {"next_token_accuracy": correct / max(total, 1), "val_loss": loss / max(total, 1)}


def pretrained_ablation(objective: str = "mlm+nsp", steps: int = 400, seed: int = 0, hidden_size: int = 64,
                        num_hidden_layers: int = 2, num_attention_heads: int = 4, intermediate_size: int | None = None,
                        vocab_size: int = 2000, num_documents: int = 6000, batch_size: int = 128,
                        max_length: int = 64, lr: float = 3e-3, warmup_steps: int | None = None,
                        initializer_range: float = 0.1, embedding_init: str | None = "ppmi", ppmi_window: int = 40,
                        threads: int | None = 1, device: str = "auto", progress: bool = True):
    """One ablation of the toy BERT, from the cache or pre-trained deterministically.

    ``objective``: ``"mlm+nsp"``, ``"mlm"`` or ``"ltr"`` (a ``CausalBertModel`` inside). The size:
    ``hidden_size``, ``num_hidden_layers``, ``num_attention_heads``, ``intermediate_size`` (default 4H).
    Every other setting is notebook 09's (``pretrained_toy_bert``), with ``warmup_steps`` 1/15 of ``steps``
    by default (notebook 09: 100 of 1500). Returns ``(BertForPreTraining in eval mode, tokenizer, History)``;
    the history's last evaluation holds ``mask_accuracy`` (and ``nsp_accuracy``) or, for ``"ltr"``,
    ``next_token_accuracy``, on 300 held-out documents. The cache key covers every argument except
    ``progress``, ``threads`` and ``device``, plus the tokenizer and the first sentences of the corpus.
    """
    from course_lib.core import TrainConfig, config_key, fit, load_or_train
    from course_lib.data import toyworld_corpus

    step = ablation_step(objective)  # checks the objective
    if embedding_init not in (None, "ppmi"):
        raise ValueError(f"embedding_init must be None or 'ppmi', got {embedding_init!r}")
    tokenizer = toy_wordpiece(vocab_size, num_documents, seed)
    config = toy_bert_config(tokenizer.vocab_size, hidden_size, num_hidden_layers, num_attention_heads,
                             4 * hidden_size if intermediate_size is None else intermediate_size, initializer_range)
    monitor = "next_token_accuracy" if objective == "ltr" else "mask_accuracy"
    train = TrainConfig(steps=steps, lr=lr, warmup_steps=max(1, steps // 15) if warmup_steps is None else warmup_steps,
                        schedule="linear", eval_every=steps, monitor=monitor, mode="max", restore_best=False,
                        seed=seed, progress=progress, desc=f"pre-training: {objective}, {num_hidden_layers}x{hidden_size}",
                        device=device)
    model_class = CausalBertForPreTraining if objective == "ltr" else BertForPreTraining

    def build():
        with torch.random.fork_rng(devices=[]):  # the same initial weights wherever it is called
            torch.manual_seed(seed)
            return model_class(config)

    def run(model):
        corpus = toyworld_corpus("train", seed=seed, num_documents=num_documents)
        if embedding_init == "ppmi":
            ppmi_word_embeddings(model, corpus, tokenizer, window=ppmi_window)
        held_out = list(pretraining_batches(toyworld_corpus("validation", seed=seed, num_documents=300),
                                            tokenizer, 256, max_length, seed=seed + 1000)())
        evaluate = ((lambda m: next_token_accuracy(m, held_out)) if objective == "ltr"
                    else (lambda m: pretraining_accuracy(m, held_out, tokenizer.mask_token_id)))
        before = torch.get_num_threads()
        if threads is not None:
            torch.set_num_threads(threads)
        try:
            return fit(model, pretraining_batches(corpus, tokenizer, batch_size, max_length, seed), train,
                       evaluate=evaluate, step=step)
        finally:
            torch.set_num_threads(before)

    fingerprint = (tokenizer.vocab, [s.text for s in toyworld_corpus("train", seed=seed, num_documents=3)])
    key = config_key(config, dataclasses.replace(train, progress=False, desc="", device="auto"), objective,
                     num_documents, batch_size, max_length, embedding_init, ppmi_window, fingerprint)
    model, history = load_or_train(f"bert-ablation-{objective.replace('+', '-')}", build, run, key)
    return model.eval(), tokenizer, history
