"""BERT's two pre-training tasks as data: masked-LM inputs (``mask_tokens``) and next-sentence pairs.

>>> inputs, labels = mask_tokens(batch["input_ids"], tokenizer)   # 15 % selected: 80/10/10
>>> pairs = next_sentence_batch(corpus, tokenizer, max_length=64)  # 50 % IsNext (label 0)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from course_lib.arguments import should_check
from course_lib.bert.model import BertForPreTraining, BertModelOutput
from course_lib.data.tasks import next_sentence_pairs
from course_lib.text.collate import IGNORE_INDEX, collate_pairs


def _word_starts(input_ids: Tensor, tokenizer) -> Tensor:
    """(B, T) boolean: True where a token is not a ``##`` continuation piece."""
    is_continuation = torch.tensor([t.startswith("##") for t in tokenizer.ids_to_tokens], dtype=torch.bool)
    return ~is_continuation[input_ids]


def mask_tokens(input_ids: Tensor, tokenizer, mlm_probability: float = 0.15,
                generator: torch.Generator | None = None, whole_word: bool = False) -> tuple[Tensor, Tensor]:
    """BERT's masked-LM corruption of ``input_ids`` (B, T) -> ``(inputs, labels)``, both (B, T).

    Selects each non-special position ([PAD], [CLS], [SEP], [MASK], [UNK] never) with probability
    ``mlm_probability``; of the selected, 80 % become [MASK], 10 % a random non-special token, 10 % stay.
    ``labels`` holds the original id at selected positions and -100 elsewhere (the loss skips them).
    ``whole_word=True`` selects words: a word's ``##`` pieces are selected with its first piece.
    """
    if not 0.0 <= mlm_probability <= 1.0:
        raise ValueError(f"mlm_probability must be in [0, 1], got {mlm_probability}")
    ids = input_ids
    special = torch.zeros(tokenizer.vocab_size, dtype=torch.bool)
    special[list(tokenizer.special_ids)] = True
    candidate = ~special[ids]  # (B, T)
    draw = torch.rand(ids.shape, generator=generator)
    if whole_word:
        starts = _word_starts(ids, tokenizer) | ~candidate
        draw = draw.gather(1, _first_index(starts))  # a word's pieces share the draw of its first piece
    selected = candidate & (draw < mlm_probability)
    labels = torch.where(selected, ids, torch.full_like(ids, IGNORE_INDEX))
    how = torch.rand(ids.shape, generator=generator)
    to_mask = selected & (how < 0.8)
    to_random = selected & (how >= 0.8) & (how < 0.9)
    ordinary = (~special).nonzero().flatten()
    random_ids = ordinary[torch.randint(len(ordinary), ids.shape, generator=generator)]
    inputs = torch.where(to_mask, torch.full_like(ids, tokenizer.mask_token_id), ids)
    inputs = torch.where(to_random, random_ids, inputs)
    return inputs, labels


def _first_index(starts: Tensor) -> Tensor:
    """(B, T): for each position, the position of the first piece of its word."""
    T = starts.shape[1]
    pos = torch.arange(T).expand_as(starts)
    return torch.where(starts, pos, torch.zeros_like(pos)).cummax(dim=1).values


def next_sentence_batch(corpus, tokenizer, max_length: int = 64, seed: int = 0) -> dict[str, Tensor]:
    """Every pair of consecutive sentences of ``corpus`` as an NSP example, collated.

    Half keep the true next sentence (``next_sentence_label`` 0 = IsNext), half take a random sentence
    of another document (1 = NotNext), as BERT's pre-training. ``[CLS] a [SEP] b [SEP]`` cut
    longest-first to ``max_length``; ``token_type_ids`` 0 on ``a``, 1 on ``b``. Returns ``input_ids``,
    ``token_type_ids``, ``attention_mask`` (N, T) and ``next_sentence_label`` (N,).
    """
    batch = collate_pairs(next_sentence_pairs(corpus, seed=seed), tokenizer, max_length=max_length)
    batch["next_sentence_label"] = batch.pop("labels")
    return batch


def pretraining_batches(corpus, tokenizer, batch_size: int = 64, max_length: int = 64, seed: int = 0,
                        bucket: int = 32):
    """A function that returns one epoch of pre-training batches (for ``course_lib.train.fit``).

    Each epoch draws fresh NSP pairs (seed + epoch) and fresh masks; every batch holds ``input_ids``
    (masked), ``token_type_ids``, ``attention_mask``, ``labels`` (-100 off the masked positions) and
    ``next_sentence_label``, the arguments of ``BertForPreTraining.forward``. Pairs are shuffled, then
    sorted by length within groups of ``bucket`` batches, so a batch holds pairs of similar length and
    little padding (``bucket=1``: no sorting); the order of the batches is shuffled again.
    """
    epoch = [0]

    def one_epoch():
        s = seed + epoch[0]
        epoch[0] += 1
        pairs = next_sentence_batch(corpus, tokenizer, max_length=max_length, seed=s)
        g = torch.Generator().manual_seed(s)
        order = torch.randperm(len(pairs["input_ids"]), generator=g)
        lengths = pairs["attention_mask"].sum(1)
        batches = []
        for start in range(0, len(order) - batch_size + 1, batch_size * bucket):
            group = order[start:start + batch_size * bucket]
            group = group[torch.argsort(lengths[group], stable=True)]
            batches += [group[i:i + batch_size] for i in range(0, len(group) - batch_size + 1, batch_size)]
        for k in torch.randperm(len(batches), generator=g).tolist():
            batch = {name: v[batches[k]] for name, v in pairs.items()}
            T = int(batch["attention_mask"].sum(1).max())  # trim padding shared by the whole batch
            batch = {name: v[:, :T] if v.dim() == 2 else v for name, v in batch.items()}
            batch["input_ids"], batch["labels"] = mask_tokens(batch["input_ids"], tokenizer, generator=g)
            yield batch

    return one_epoch


def masked_lm_loss(model, batch: dict[str, Tensor]) -> tuple[Tensor, BertModelOutput]:
    """The MLM cross-entropy of a batch with the head run on the selected positions only, and the encoder's output.

    A batch with no selected position (short sentences can give one) has no MLM term: its loss is 0 with a
    gradient of 0, where ``F.cross_entropy`` with every label ignored (and Hugging Face's ``BertForPreTraining``,
    which calls it) returns NaN, which would enter the history and the weights.
    """
    out, _ = model.bert(batch["input_ids"], batch.get("token_type_ids"), batch.get("attention_mask"))  # checks ids
    if should_check():
        model.check_targets(batch["input_ids"], batch["labels"])
    selected = batch["labels"] != IGNORE_INDEX  # (B, T)
    mlm = model.cls.predictions(out.last_hidden_state[selected])  # (N, V): N selected positions
    if not bool(selected.any()):
        return mlm.sum() * 0.0, out
    return F.cross_entropy(mlm, batch["labels"][selected]), out


def pretraining_step(model, batch: dict[str, Tensor], state=None) -> tuple[Tensor, None]:
    """BERT's pre-training loss, MLM + NSP, for ``course_lib.core.fit``.

    Equal to ``model(**batch)[1]`` but faster: the (B, T, V) logits of the ~85 % of positions that have no
    label are never computed (``masked_lm_loss``).
    """
    mlm, out = masked_lm_loss(model, batch)  # checks the ids, the mask and the labels
    if should_check():
        model.check_targets(batch["input_ids"], next_sentence_label=batch["next_sentence_label"])
    nsp = model.cls.seq_relationship(out.pooler_output)  # (B, 2)
    return mlm + F.cross_entropy(nsp, batch["next_sentence_label"]), state


def pretraining_accuracy(model, batches, mask_token_id: int | None = None) -> dict[str, float]:
    """Held-out metrics: ``mlm_accuracy`` over every selected position, ``nsp_accuracy``, ``val_loss``, and
    with ``mask_token_id`` also ``mask_accuracy``, over the positions whose input is [MASK] (80 % of the selected).
    """
    correct = {"mlm": 0, "mask": 0, "nsp": 0}
    total = {"mlm": 0, "mask": 0, "nsp": 0}
    losses = []
    device = next(model.parameters()).device
    for batch in batches:
        batch = {k: v.to(device) for k, v in batch.items()}
        out, loss = model(**batch)
        hit = out.prediction_logits.argmax(-1) == batch["labels"]  # (B, T)
        selected = batch["labels"] != IGNORE_INDEX
        masked = selected & (batch["input_ids"] == (-1 if mask_token_id is None else mask_token_id))
        for name, where in (("mlm", selected), ("mask", masked)):
            correct[name] += hit[where].sum().item()
            total[name] += where.sum().item()
        correct["nsp"] += (out.seq_relationship_logits.argmax(-1) == batch["next_sentence_label"]).sum().item()
        total["nsp"] += len(batch["next_sentence_label"])
        losses.append(loss.item())
    metrics = {"val_loss": sum(losses) / len(losses), "mlm_accuracy": correct["mlm"] / max(total["mlm"], 1),
               "nsp_accuracy": correct["nsp"] / max(total["nsp"], 1)}
    if mask_token_id is not None:
        metrics["mask_accuracy"] = correct["mask"] / max(total["mask"], 1)
    return metrics


def cloze_baselines(corpus, tokenizer, batches, smoothing: float = 0.1) -> dict[str, float]:
    """Accuracy of two count-based guesses at the [MASK] positions of ``batches`` (for comparison with BERT).

    ``unigram``: always the most frequent ordinary token. ``left_bigram``: argmax_w P(w | left), what a
    left-to-right model of bigrams can do. ``bigram``: the two-sided bigram guess
    argmax_w P(w | left) · P(right | w), with add-``smoothing`` counts from ``corpus``'s sentences; it sees the
    true neighbours (one blank at a time, like the toy world's cloze ceiling). [CLS] and [SEP] both count as
    the sentence boundary.
    """
    V, sep = tokenizer.vocab_size, tokenizer.sep_token_id
    counts = torch.zeros(V, V)  # counts[a, b]: how often token b follows token a
    for sentence in corpus.sentences():
        ids = torch.tensor([sep, *tokenizer.convert_tokens_to_ids(tokenizer.tokenize(" ".join(sentence.tokens))), sep])
        counts.index_put_((ids[:-1], ids[1:]), torch.ones(len(ids) - 1), accumulate=True)
    ordinary = torch.ones(V, dtype=torch.bool)
    ordinary[list(tokenizer.special_ids)] = False
    log_next = ((counts + smoothing) / (counts + smoothing).sum(1, keepdim=True)).log()  # log P(b | a)
    unigram = int(torch.where(ordinary, counts.sum(0), -1.0).argmax())
    hits = {"unigram": 0, "left_bigram": 0, "bigram": 0}
    total = 0
    for batch in batches:
        original = _unmasked(batch)
        original = torch.where(original == tokenizer.cls_token_id, sep, original)
        rows, cols = (batch["input_ids"] == tokenizer.mask_token_id).nonzero(as_tuple=True)
        left, right, gold = original[rows, cols - 1], original[rows, cols + 1], original[rows, cols]
        score = log_next[left] + log_next[:, right].T  # (N, V): log P(w | left) + log P(right | w)
        guess = score.masked_fill(~ordinary, -torch.inf).argmax(-1)
        left_guess = log_next[left].masked_fill(~ordinary, -torch.inf).argmax(-1)
        hits["bigram"] += (guess == gold).sum().item()
        hits["left_bigram"] += (left_guess == gold).sum().item()
        hits["unigram"] += (gold == unigram).sum().item()
        total += len(gold)
    return {name: n / max(total, 1) for name, n in hits.items()}


# ------------------------------------------------------------------------------ the objectives of the ablations

OBJECTIVES = ("mlm+nsp", "mlm", "ltr")


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


def objective_step(objective: str):
    """The step function of ``course_lib.train.fit`` for one pre-training objective (see ``OBJECTIVES``)."""
    if objective == "mlm+nsp":
        return pretraining_step
    if objective == "mlm":
        return lambda model, batch, state=None: (masked_lm_loss(model, batch)[0], state)
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
