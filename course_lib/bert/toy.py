"""The toy BERT of notebook 09: its WordPiece vocabulary, its config, its PPMI-initialised embeddings, its recipe.
"""

from __future__ import annotations

import dataclasses
import functools

import torch

from course_lib.bert.pretraining import pretraining_accuracy, pretraining_batches, pretraining_step


@functools.lru_cache(maxsize=4)
def toy_wordpiece(vocab_size: int = 2000, num_documents: int = 6000, seed: int = 0):
    """The WordPiece tokenizer of the toy BERT, trained deterministically on the toy world's train split.

    At the default size every word of the toy world is one token, so MLM accuracy is word accuracy.
    Kept in memory after the first call (a few seconds each): the toy BERT and every ablation share it.
    """
    from course_lib.data import toyworld_corpus
    from course_lib.text import WordPieceTokenizer

    corpus = toyworld_corpus("train", seed=seed, num_documents=num_documents)
    return WordPieceTokenizer.train([" ".join(s.tokens) for s in corpus.sentences()], vocab_size=vocab_size)


def toy_bert_config(vocab_size: int, hidden_size: int = 64, num_hidden_layers: int = 2,
                    num_attention_heads: int = 4, intermediate_size: int = 256, initializer_range: float = 0.1):
    """The ``BertConfig`` of the toy BERT: small, no dropout (the generated data is plentiful).

    ``initializer_range`` 0.1 rather than BERT's 0.02: at width 64 a N(0, 0.02²) projection scales its input
    by ~0.02·√64 ≈ 0.16, so what attention brings to [CLS] (value, then output projection) starts ~40x smaller
    than [CLS]'s own embedding. Together with ``ppmi_word_embeddings`` this lets NSP leave chance early.
    """
    from course_lib.bert.model import BertConfig

    return BertConfig(vocab_size=vocab_size, hidden_size=hidden_size, num_hidden_layers=num_hidden_layers,
                      num_attention_heads=num_attention_heads, intermediate_size=intermediate_size,
                      max_position_embeddings=128, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
                      initializer_range=initializer_range)


def ppmi_word_embeddings(model, corpus, tokenizer, window: int = 40, std: float | None = None) -> int:
    """Overwrite the word embeddings of the toy words with count-based vectors (notebook 01's PPMI + SVD).

    Counts are taken over whole documents (each document read as one token sequence, ``window`` words either
    side), so words of the same topic, and a topic's character names, get similar vectors: the evidence NSP
    compares. The vectors are rescaled to standard deviation ``std`` (default: the model's
    ``initializer_range``); tokens that are not toy words (special tokens, ``##`` pieces) keep their random
    rows. Returns the number of rows written. Deterministic (a full SVD of the PPMI matrix).
    """
    from course_lib.wordvec import ppmi_svd

    embeddings = model.bert.embeddings.word_embeddings if hasattr(model, "bert") else model.embeddings.word_embeddings
    std = model.config.initializer_range if std is None else std
    documents = [[w for s in doc.sentences for w in s.tokens] for doc in corpus.documents]
    vectors = ppmi_svd(documents, dim=embeddings.embedding_dim, window=window)
    rows = torch.tensor(tokenizer.convert_tokens_to_ids(list(vectors.words)))
    keep = torch.tensor([int(i) != tokenizer.unk_token_id and int(i) not in tokenizer.special_ids for i in rows])
    v = vectors.vectors[keep]
    with torch.no_grad():
        embeddings.weight[rows[keep]] = (v / v.std() * std).to(embeddings.weight.dtype)
    return int(keep.sum())


def pretrained_toy_bert(steps: int = 1500, seed: int = 0, vocab_size: int = 2000, num_documents: int = 6000,
                        hidden_size: int = 64, num_hidden_layers: int = 2, num_attention_heads: int = 4,
                        intermediate_size: int = 256, batch_size: int = 128, max_length: int = 64,
                        lr: float = 3e-3, warmup_steps: int = 100, schedule: str = "linear", threads: int | None = 1,
                        device: str = "auto", progress: bool = True, initializer_range: float = 0.1,
                        embedding_init: str | None = "ppmi", ppmi_window: int = 40):
    """The toy BERT of notebook 09, from the cache or pre-trained deterministically (MLM + NSP).

    Returns ``(model, tokenizer, history)``: a ``BertForPreTraining`` in eval mode with the weights of the last
    step (not of the best evaluation: NSP at chance would pick an early one), its ``WordPieceTokenizer``
    and the training ``History`` (held-out ``nsp_accuracy``, ``mask_accuracy`` ... on 300 validation
    documents). Notebooks 10–12 call this with the defaults, which are notebook 09's. ``threads``: torch
    threads while training (1 was faster than 2 for this small model on the course's 2-core CPU).
    ``embedding_init="ppmi"`` starts the word embeddings from document-level PPMI + SVD vectors of the
    training corpus (``ppmi_word_embeddings``), ``None`` from BERT's random init; with ``initializer_range``
    0.1 this is what lifts NSP off chance within the budget.
    """
    from course_lib.bert.model import BertForPreTraining
    from course_lib.core import TrainConfig, config_key, fit, load_or_train
    from course_lib.data import toyworld_corpus

    tokenizer = toy_wordpiece(vocab_size, num_documents, seed)
    if embedding_init not in (None, "ppmi"):
        raise ValueError(f"embedding_init must be None or 'ppmi', got {embedding_init!r}")
    config = toy_bert_config(tokenizer.vocab_size, hidden_size, num_hidden_layers, num_attention_heads,
                             intermediate_size, initializer_range)
    train = TrainConfig(steps=steps, lr=lr, warmup_steps=warmup_steps, schedule=schedule,
                        eval_every=max(1, steps // 6), monitor="mask_accuracy", mode="max", restore_best=False,
                        seed=seed, progress=progress, desc="pre-training BERT", device=device)

    def run(model):
        corpus = toyworld_corpus("train", seed=seed, num_documents=num_documents)
        held_out = list(pretraining_batches(toyworld_corpus("validation", seed=seed, num_documents=300),
                                            tokenizer, 256, max_length, seed=seed + 1000)())
        before = torch.get_num_threads()
        if threads is not None:
            torch.set_num_threads(threads)
        try:  # the SVD too runs on `threads` threads: its rounding, and so the model, depends on the count
            if embedding_init == "ppmi":
                ppmi_word_embeddings(model, corpus, tokenizer, window=ppmi_window)
            return fit(model, pretraining_batches(corpus, tokenizer, batch_size, max_length, seed), train,
                       evaluate=lambda m: pretraining_accuracy(m, held_out, tokenizer.mask_token_id),
                       step=pretraining_step)
        finally:
            torch.set_num_threads(before)

    fingerprint = (tokenizer.vocab, [s.text for s in toyworld_corpus("train", seed=seed, num_documents=3)])
    key = config_key(config, dataclasses.replace(train, progress=False), num_documents, batch_size, max_length,
                     fingerprint,  # a changed toy world trains a new model
                     *(() if embedding_init is None else (embedding_init, ppmi_window)))  # a bar changes nothing
    model, history = load_or_train("toy-bert", lambda: BertForPreTraining(config), run, key)
    return model.eval(), tokenizer, history
