"""Running the course's four downstream tasks: fixed batches, evaluation, and features for the results table.

The heads and the training loop live in ``course_lib.bert_tasks``; this module feeds them and scores them:

- ``task_batches(examples, collate, batch_size, seed)``: the examples collated once into fixed batches, and a
  function that returns one epoch of them in a fresh seeded order (what ``fine_tune`` takes);
  ``shuffled_epochs(batches, seed)`` makes another such function, one per training run to compare runs;
- ``evaluate_classifier`` / ``evaluate_tagger`` / ``evaluate_qa``: held-out scores of a fine-tuned head
  (accuracy; exact match and F1 over answer words, "no answer" counted);
- ``collate_sense_tagging``: single sentences with a sense label on the polysemous word only, for a token
  classifier (the intermediate task before the sense pairs);
- ``mean_pool`` and ``pair_features``: how a model that gives one vector per word (static skip-gram
  vectors, frozen ELMo layers) reads a sentence or a pair of words, for the comparison with BERT.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import torch
from torch import Tensor, nn

from course_lib.bert_tasks import best_spans, exact_match, predict, span_f1, span_words
from course_lib.text.collate import IGNORE_INDEX, collate_sense

__all__ = ["collate_sense_tagging", "evaluate_classifier", "evaluate_qa", "evaluate_tagger", "mean_pool", "pair_features", "qa_predictions",
           "shuffled_epochs", "task_batches"]


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
