"""Skip-gram with negative sampling: ours (torch, batched SGD, hand-written gradients) vs gensim's Word2Vec (C).

Same corpus (the toy world's first 8000 training documents, ~250k tokens) and the same
hyper-parameters: 100 dimensions, window 5, 5 negatives, 3 epochs, min count 5, subsampling 1e-3;
gensim runs 2 worker threads, ours 1 torch thread (its small operations run slower on 2 threads).
Speed is raw corpus words per second (epochs x tokens / training seconds; the median of REPEATS
runs, ours and gensim interleaved so that the load of a shared machine hits both alike; vocabulary
building excluded for both). Quality is measured on the toy world's analogy families
(3CosAdd accuracy) and its graded similarity set (Spearman), with the same evaluation code for both.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the harness, also when run as a script

from harness import Row  # noqa: E402

DOCUMENTS, DIM, WINDOW, NEGATIVES, EPOCHS, MIN_COUNT, SAMPLE = 8000, 100, 5, 5, 3, 5, 1e-3
WORKERS, TORCH_THREADS, REPEATS = 2, 1, 3  # gensim's threads, ours, timed runs of each


def rows() -> Iterator[Row]:
    try:
        from gensim.models import Word2Vec
    except ImportError as err:
        raise ImportError("gensim is not installed: pip install -e '.[ref]'") from err
    from course_lib.data.tasks import analogy_set, similarity_set
    from course_lib.data.toyworld import toy_world
    from course_lib.wordvec import SkipGramConfig, SkipGramData, WordVectors, train_skipgram

    corpus = toy_world().corpus("train", seed=0, num_documents=DOCUMENTS)
    sentences = [s.tokens for s in corpus]
    words = EPOCHS * corpus.num_tokens
    config = SkipGramConfig(dim=DIM, window=WINDOW, negatives=NEGATIVES, epochs=EPOCHS, min_count=MIN_COUNT,
                            subsample=SAMPLE, threads=TORCH_THREADS, device="cpu")
    data = SkipGramData(sentences, config)

    def train_ours() -> tuple[WordVectors, float]:
        start = time.perf_counter()
        vectors = train_skipgram(sentences, config, progress=False, data=data)[0]
        return vectors, time.perf_counter() - start

    def train_gensim() -> tuple[WordVectors, float]:
        model = Word2Vec(vector_size=DIM, window=WINDOW, negative=NEGATIVES, sg=1, hs=0, min_count=MIN_COUNT,
                         sample=SAMPLE, workers=WORKERS, seed=0)
        model.build_vocab(sentences)
        start = time.perf_counter()
        model.train(sentences, total_examples=len(sentences), epochs=EPOCHS)
        return WordVectors.from_gensim(model), time.perf_counter() - start

    ours_times, gensim_times = [], []
    for _ in range(REPEATS):  # interleaved: ours, gensim, ours, ...
        ours, seconds = train_ours()
        ours_times.append(seconds)
        reference, seconds = train_gensim()
        gensim_times.append(seconds)
    ours_s, gensim_s = statistics.median(ours_times), statistics.median(gensim_times)

    note = (f"{corpus.num_tokens} tokens x {EPOCHS} epochs, V={len(ours)}, batch {config.batch_size}, "
            f"torch {TORCH_THREADS} thread vs {WORKERS} gensim workers")
    yield Row("skip-gram training speed (toy world)", words / ours_s / 1e3, words / gensim_s / 1e3, "kw/s",
              f"vs gensim Word2Vec; {note}")
    questions, pairs = analogy_set(), similarity_set()
    yield Row("skip-gram analogy accuracy, toy families (3CosAdd)", ours.evaluate_analogy(questions).accuracy,
              reference.evaluate_analogy(questions).accuracy, "acc", f"{len(questions)} questions")
    yield Row("skip-gram similarity Spearman, toy similarity set", ours.evaluate_similarity(pairs).spearman,
              reference.evaluate_similarity(pairs).spearman, "rho", f"{len(pairs)} pairs")


if __name__ == "__main__":
    for row in rows():
        print(row)
