"""Fine-tuning BERT on the course's four kinds of task, and evaluating it (notebooks 10 and 12).

- ``fine_tune(model, batches)``: BERT's recipe through ``course_lib.core.fit`` (AdamW, 10 % warm-up, linear decay,
  clipping); ``predict`` runs a model over batches.
- ``task_batches`` / ``shuffled_epochs``: fixed batches of collated examples, and one reshuffle per training run,
  so that every model compared in a table sees the same batches in the same order.
- ``evaluate_classifier`` / ``evaluate_tagger`` / ``evaluate_qa``: accuracy, macro-F1, exact match and F1.
- ``mean_pool`` / ``pair_features``: what the feature-based baselines (static vectors, ELMo) read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence

import torch
from torch import Tensor, nn

from course_lib.bert.heads import QAOutput, _BertWithHead
from course_lib.bert.metrics import best_spans, exact_match, span_f1, span_words
from course_lib.core import History, TrainConfig, fit
from course_lib.text.collate import IGNORE_INDEX, collate_sense

_MODEL_KEYS = ("input_ids", "token_type_ids", "attention_mask", "labels", "start_positions", "end_positions",
               "positions_a", "positions_b")


def _model_inputs(batch: dict) -> dict[str, Tensor]:
    return {k: v for k, v in batch.items() if k in _MODEL_KEYS and isinstance(v, Tensor)}


def _step(model: nn.Module, batch: dict, state):
    _, loss = model(**_model_inputs(batch))
    if loss is None:
        raise ValueError("the batch has no targets (labels, or start_positions and end_positions)")
    return loss, state


def fine_tune(model: _BertWithHead, batches: Iterable[dict] | Callable[[], Iterable[dict]], steps: int = 300,
              lr: float = 5e-4, warmup_steps: int | None = None, evaluate: Callable[[nn.Module], dict] | None = None,
              eval_every: int | None = None, monitor: str = "val_loss", mode: str = "min", seed: int = 0,
              device: str = "auto", progress: bool = True, desc: str = "fine-tuning") -> History:
    """Fine-tune ``model`` on batches of ``course_lib.text.collate`` dicts through ``course_lib.train.fit``.

    BERT's recipe: AdamW, linear warm-up (10 % of the steps by default) then linear decay to 0,
    gradient clipping at 1. Keys a model does not take (``word_index`` ...) are left out of its call.
    """
    config = TrainConfig(steps=steps, lr=lr, warmup_steps=steps // 10 if warmup_steps is None else warmup_steps,
                         schedule="linear", weight_decay=0.01, eval_every=eval_every or steps, monitor=monitor,
                         mode=mode, restore_best=evaluate is not None, device=device, seed=seed,
                         progress=progress, desc=desc)
    return fit(model, batches, config, evaluate=evaluate, step=_step)


@torch.no_grad()
def predict(model: nn.Module, batches: Iterable[dict]) -> list:
    """Run ``model`` in eval mode over ``batches``; the outputs of each batch, moved to the CPU.

    Classifiers give their logits tensor per batch, question answering a ``(start, end)`` pair.
    """
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    results = []
    try:
        for batch in batches:
            inputs = {k: v.to(device) for k, v in _model_inputs(batch).items()
                      if k in ("input_ids", "token_type_ids", "attention_mask", "positions_a", "positions_b")}
            out, _ = model(**inputs)
            if isinstance(out, QAOutput):
                results.append((out.start_logits.cpu(), out.end_logits.cpu()))
            else:
                results.append(out.logits.cpu())
    finally:
        model.train(was_training)
    return results


def task_batches(examples: Sequence, collate: Callable[[Sequence], dict], batch_size: int = 32,
                 seed: int = 0) -> tuple[Callable[[], Iterator[dict]], list[dict]]:
    """``(epoch, batches)``: ``examples`` collated once, in order, into batches of ``batch_size``;
    ``epoch()`` yields them in a new order each call (seeded), as ``fine_tune`` wants.

    Collating once keeps tokenizing out of the training loop; the order of the examples inside a batch
    is fixed, the order of the batches is not (see ``shuffled_epochs`` to train several models alike).
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if len(examples) == 0:
        raise ValueError("no examples to batch")
    batches = [collate(examples[i:i + batch_size]) for i in range(0, len(examples), batch_size)]
    return shuffled_epochs(batches, seed), batches


def shuffled_epochs(batches: Sequence[dict], seed: int = 0) -> Callable[[], Iterator[dict]]:
    """``epoch()`` yields ``batches`` in a new order at each call; the sequence of orders follows ``seed``.

    The function remembers where it is: a second ``fine_tune`` given the same one continues where the
    first stopped and sees other batches first. To compare models on the same data in the same order,
    make one per run: ``fine_tune(model, shuffled_epochs(batches, seed), ...)``.
    """
    generator = torch.Generator().manual_seed(seed)

    def epoch() -> Iterator[dict]:
        for k in torch.randperm(len(batches), generator=generator).tolist():
            yield batches[k]

    return epoch


def collate_sense_tagging(examples: Sequence, tokenizer, max_length: int | None = None) -> dict[str, Tensor]:
    """``SenseExample``s -> ``collate_sense``'s batch with ``labels`` (B, T): the sense on the polysemous word's
    first piece, -100 everywhere else, the input of ``BertForTokenClassification``."""
    batch = collate_sense(examples, tokenizer, max_length=max_length)
    labels = torch.full_like(batch["input_ids"], IGNORE_INDEX)
    labels[torch.arange(len(examples)), batch["positions"]] = batch["labels"]
    batch["labels"] = labels  # (B, T)
    return batch


def evaluate_classifier(model: nn.Module, batches: Sequence[dict]) -> dict[str, float]:
    """``accuracy`` of a sentence (or pair) classifier over ``batches`` with ``labels`` (B,)."""
    logits = predict(model, batches)
    predicted = torch.cat([x.argmax(-1) for x in logits])
    gold = torch.cat([b["labels"] for b in batches])
    return {"accuracy": (predicted == gold).float().mean().item()}


def evaluate_tagger(model: nn.Module, batches: Sequence[dict]) -> dict[str, float]:
    """``accuracy`` of a token classifier over the scored positions (``labels != -100``: first pieces)."""
    correct = total = 0
    for logits, b in zip(predict(model, batches), batches, strict=True):
        scored = b["labels"] != -100
        correct += (logits.argmax(-1)[scored] == b["labels"][scored]).sum().item()
        total += scored.sum().item()
    return {"accuracy": correct / max(total, 1)}


def qa_predictions(model: nn.Module, batches: Sequence[dict], contexts: Sequence[Sequence[str]],
                   max_answer_length: int = 30) -> list[list[str]]:
    """The predicted answer words of each question ([] for "no answer"), in the order of the batches."""
    answers, k = [], 0
    for (start, end), b in zip(predict(model, batches), batches, strict=True):
        word_index = torch.tensor(b["word_index"])  # (B, T): -1 outside the context
        for row, span in enumerate(best_spans(start, end, word_index >= 0, max_answer_length)):
            answers.append(span_words(span, b["word_index"][row], contexts[k]))
            k += 1
    if k != len(contexts):
        raise ValueError(f"the batches hold {k} questions but {len(contexts)} contexts were given")
    return answers


def evaluate_qa(model: nn.Module, batches: Sequence[dict], examples: Sequence, max_answer_length: int = 30
                ) -> dict[str, float]:
    """Exact match and F1 over all questions (an unanswerable one scores 1 only for "no answer"), and
    exact match on the answerable and the unanswerable ones apart. ``examples`` in the batches' order."""
    predicted = qa_predictions(model, batches, [ex.context for ex in examples], max_answer_length)
    em = [exact_match(p, ex.answer) for p, ex in zip(predicted, examples, strict=True)]
    f1 = [span_f1(p, ex.answer) for p, ex in zip(predicted, examples, strict=True)]
    has = [ex.span is not None for ex in examples]

    def mean(values: list[float], keep: list[bool]) -> float:
        chosen = [v for v, k in zip(values, keep, strict=True) if k]
        return sum(chosen) / len(chosen) if chosen else float("nan")

    return {"exact_match": sum(em) / len(em), "f1": sum(f1) / len(f1),
            "exact_match_answerable": mean(em, has), "exact_match_unanswerable": mean(em, [not h for h in has])}


def mean_pool(per_word: Tensor, lengths: Sequence[int]) -> Tensor:
    """(N_words, C) word vectors of consecutive sentences -> (N_sentences, C) mean per sentence."""
    if sum(lengths) != len(per_word):
        raise ValueError(f"lengths add up to {sum(lengths)} but there are {len(per_word)} word vectors")
    if any(n < 1 for n in lengths):
        raise ValueError("every sentence needs at least one word")
    return torch.stack([chunk.mean(0) for chunk in per_word.split(list(lengths))])


def pair_features(u: Tensor, v: Tensor) -> Tensor:
    """(N, C), (N, C) -> (N, 4C): [u; v; |u - v|; u * v], the usual way to compare two vectors linearly."""
    if u.shape != v.shape:
        raise ValueError(f"u and v must have the same shape, got {tuple(u.shape)} and {tuple(v.shape)}")
    return torch.cat([u, v, (u - v).abs(), u * v], dim=-1)
