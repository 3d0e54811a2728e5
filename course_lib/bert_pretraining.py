"""BERT's two pre-training tasks as data: masked-LM inputs (``mask_tokens``) and next-sentence pairs.

>>> inputs, labels = mask_tokens(batch["input_ids"], tokenizer)   # 15 % selected: 80/10/10
>>> pairs = next_sentence_pairs(corpus, tokenizer, max_length=64)  # 50 % IsNext (label 0)
"""

from __future__ import annotations

import torch
from torch import Tensor

from course_lib.text.collate import IGNORE_INDEX, collate_pairs

__all__ = ["mask_tokens", "next_sentence_pairs", "pretrained_toy_bert", "pretraining_accuracy", "pretraining_batches",
           "toy_wordpiece"]


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


def next_sentence_pairs(corpus, tokenizer, max_length: int = 64, seed: int = 0) -> dict[str, Tensor]:
    """Every pair of consecutive sentences of ``corpus`` as an NSP example, collated.

    Half keep the true next sentence (``next_sentence_label`` 0 = IsNext), half take a random sentence
    of another document (1 = NotNext), as BERT's pre-training. ``[CLS] a [SEP] b [SEP]`` cut
    longest-first to ``max_length``; ``token_type_ids`` 0 on ``a``, 1 on ``b``. Returns ``input_ids``,
    ``token_type_ids``, ``attention_mask`` (N, T) and ``next_sentence_label`` (N,).
    """
    from course_lib.data.tasks import next_sentence_pairs as sentence_pairs

    batch = collate_pairs(sentence_pairs(corpus, seed=seed), tokenizer, max_length=max_length)
    batch["next_sentence_label"] = batch.pop("labels")
    return batch


# ------------------------------------------------------------------------------ pre-training


def pretraining_batches(corpus, tokenizer, batch_size: int = 64, max_length: int = 64, seed: int = 0):
    """A function that returns one epoch of pre-training batches (for ``course_lib.train.fit``).

    Each epoch draws fresh NSP pairs (seed + epoch) and fresh masks; every batch holds ``input_ids``
    (masked), ``token_type_ids``, ``attention_mask``, ``labels`` (-100 off the masked positions) and
    ``next_sentence_label``, the arguments of ``BertForPreTraining.forward``.
    """
    epoch = [0]

    def one_epoch():
        s = seed + epoch[0]
        epoch[0] += 1
        pairs = next_sentence_pairs(corpus, tokenizer, max_length=max_length, seed=s)
        g = torch.Generator().manual_seed(s)
        order = torch.randperm(len(pairs["input_ids"]), generator=g)
        for start in range(0, len(order) - batch_size + 1, batch_size):
            batch = {k: v[order[start:start + batch_size]] for k, v in pairs.items()}
            T = int(batch["attention_mask"].sum(1).max())  # trim padding shared by the whole batch
            batch = {k: v[:, :T] if v.dim() == 2 else v for k, v in batch.items()}
            batch["input_ids"], batch["labels"] = mask_tokens(batch["input_ids"], tokenizer, generator=g)
            yield batch

    return one_epoch


def pretraining_accuracy(model, batches) -> dict[str, float]:
    """Accuracy on the masked positions (``mlm_accuracy``), of NSP (``nsp_accuracy``), and the mean loss."""
    correct_mlm = total_mlm = correct_nsp = total_nsp = 0
    losses = []
    device = next(model.parameters()).device
    for batch in batches:
        batch = {k: v.to(device) for k, v in batch.items()}
        out, loss = model(**batch)
        masked = batch["labels"] != -100
        correct_mlm += (out.prediction_logits.argmax(-1)[masked] == batch["labels"][masked]).sum().item()
        total_mlm += masked.sum().item()
        correct_nsp += (out.seq_relationship_logits.argmax(-1) == batch["next_sentence_label"]).sum().item()
        total_nsp += len(batch["next_sentence_label"])
        losses.append(loss.item())
    return {"val_loss": sum(losses) / len(losses), "mlm_accuracy": correct_mlm / max(total_mlm, 1),
            "nsp_accuracy": correct_nsp / max(total_nsp, 1)}


def toy_wordpiece(vocab_size: int = 1200, num_documents: int = 6000, seed: int = 0):
    """The WordPiece tokenizer of the toy BERT, trained deterministically on the toy world's train split."""
    from course_lib.data import toyworld_corpus
    from course_lib.text import WordPieceTokenizer

    corpus = toyworld_corpus("train", seed=seed, num_documents=num_documents)
    return WordPieceTokenizer.train([" ".join(s.tokens) for s in corpus.sentences()], vocab_size=vocab_size)


def pretrained_toy_bert(steps: int = 1200, seed: int = 0, vocab_size: int = 1200, num_documents: int = 6000,
                        batch_size: int = 64, max_length: int = 64, lr: float = 2e-3, progress: bool = True):
    """The toy BERT of notebook 09, from the cache or pre-trained deterministically (MLM + NSP).

    Returns ``(model, tokenizer, history)``: a ``BertForPreTraining`` (tiny config, eval mode), its
    ``WordPieceTokenizer`` and the training ``History``. Notebooks 10–11 call this with the defaults.
    """
    from course_lib.bert import BertConfig, BertForPreTraining
    from course_lib.data import toyworld_corpus
    from course_lib.train import TrainConfig, config_key, fit, load_or_train

    tokenizer = toy_wordpiece(vocab_size, num_documents, seed)
    config = BertConfig.tiny(tokenizer.vocab_size)
    config.hidden_dropout_prob = config.attention_probs_dropout_prob = 0.0  # the toy world is small, no overfitting
    train = TrainConfig(steps=steps, lr=lr, warmup_steps=min(100, steps // 10), schedule="linear",
                        eval_every=max(1, steps // 6), monitor="nsp_accuracy", mode="max", seed=seed,
                        progress=progress, desc="pre-training BERT", device="cpu")

    def run(model):
        corpus = toyworld_corpus("train", seed=seed, num_documents=num_documents)
        held_out = list(pretraining_batches(toyworld_corpus("validation", seed=seed, num_documents=600),
                                            tokenizer, 128, max_length, seed=seed + 1000)())
        return fit(model, pretraining_batches(corpus, tokenizer, batch_size, max_length, seed), train,
                   evaluate=lambda m: pretraining_accuracy(m, held_out))

    key = config_key(config, train, num_documents, batch_size, max_length)
    model, history = load_or_train("toy-bert", lambda: BertForPreTraining(config), run, key)
    return model.eval(), tokenizer, history
