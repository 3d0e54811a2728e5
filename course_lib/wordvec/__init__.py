"""Notebook 01: word vectors: one-hot, co-occurrence counts -> PPMI -> SVD, skip-gram, their evaluation and pictures.
"""

from course_lib.wordvec.counts import (
    Sentences,
    build_vocabulary,
    cooccurrence_counts,
    corpus_ids,
    one_hot,
    ppmi,
    ppmi_svd,
    sentences_of,
    svd_vectors,
)
from course_lib.wordvec.skipgram import (
    SkipGram,
    SkipGramConfig,
    SkipGramData,
    keep_probabilities,
    noise_distribution,
    sgns_gradients,
    sgns_loss,
    train_skipgram,
)
from course_lib.wordvec.vectors import (
    AnalogyResult,
    SimilarityResult,
    WordVectors,
    category_precision,
    sense_classification,
    spearman,
)
from course_lib.wordvec.viz import (
    MAX_K,
    NeighbourExplorer,
    plot_word_map,
)

__all__ = [
    "AnalogyResult",
    "build_vocabulary",
    "category_precision",
    "cooccurrence_counts",
    "corpus_ids",
    "keep_probabilities",
    "MAX_K",
    "NeighbourExplorer",
    "noise_distribution",
    "one_hot",
    "plot_word_map",
    "ppmi",
    "ppmi_svd",
    "sense_classification",
    "Sentences",
    "sentences_of",
    "sgns_gradients",
    "sgns_loss",
    "SimilarityResult",
    "SkipGram",
    "SkipGramConfig",
    "SkipGramData",
    "spearman",
    "svd_vectors",
    "train_skipgram",
    "WordVectors",
]
