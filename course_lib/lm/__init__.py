"""Notebook 02: language models: n-grams and perplexity, the LSTM cell and the LSTM LM, their data and the cached LSTM LM.
"""

from course_lib.lm.data import (
    LMDataConfig,
    lm_vocab,
    load_lm_corpus,
    sentence_batches,
    sentence_ids,
    stream_batches,
    toyworld_vocab,
)
from course_lib.lm.lstm import (
    LSTMLM,
    LSTMCell,
    LSTMLMConfig,
    State,
    detach_state,
    native_lstm,
    tbptt_step,
    unroll,
)
from course_lib.lm.ngram import (
    LanguageModel,
    NGramLM,
    UniformLM,
    cross_entropy,
    perplexity,
)
from course_lib.lm.pretrained import (
    cached_sentence_lm,
    default_train_config,
    pretrained_lstm_lm,
    train_lstm_lm,
)

__all__ = [
    "cached_sentence_lm",
    "cross_entropy",
    "default_train_config",
    "detach_state",
    "LanguageModel",
    "lm_vocab",
    "LMDataConfig",
    "load_lm_corpus",
    "LSTMCell",
    "LSTMLM",
    "LSTMLMConfig",
    "native_lstm",
    "NGramLM",
    "perplexity",
    "pretrained_lstm_lm",
    "sentence_batches",
    "sentence_ids",
    "State",
    "stream_batches",
    "tbptt_step",
    "toyworld_vocab",
    "train_lstm_lm",
    "UniformLM",
    "unroll",
]
