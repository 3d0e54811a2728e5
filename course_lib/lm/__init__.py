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
    token_lists,
)
from course_lib.lm.pretrained import (
    LMRecipe,
    LSTMLMSettings,
    pretrained_lstm_lm,
    train_sentence_lm,
)
from course_lib.lm.sentence_lm import (
    SentenceLM,
    generate,
)

__all__ = [
    "cross_entropy",
    "detach_state",
    "generate",
    "LanguageModel",
    "lm_vocab",
    "LMDataConfig",
    "LMRecipe",
    "load_lm_corpus",
    "LSTMCell",
    "LSTMLM",
    "LSTMLMConfig",
    "LSTMLMSettings",
    "native_lstm",
    "NGramLM",
    "perplexity",
    "pretrained_lstm_lm",
    "sentence_batches",
    "sentence_ids",
    "SentenceLM",
    "State",
    "stream_batches",
    "tbptt_step",
    "token_lists",
    "toyworld_vocab",
    "train_sentence_lm",
    "UniformLM",
    "unroll",
]
