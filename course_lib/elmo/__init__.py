"""Notebooks 03-04: ELMo: the biLM (+ character encoder), the scalar mix, frozen features and heads, probes, pictures.
"""

from course_lib.elmo.bilm import (
    BOS_ID,
    EOS_ID,
    PAD_ID,
    UNK_ID,
    BiLM,
    BiLMConfig,
)
from course_lib.elmo.char_encoder import (
    BOW,
    EOW,
    NUM_CHARS,
    CharEncoder,
    Highway,
    word_characters,
)
from course_lib.elmo.features import (
    DIRECTIONS,
    direction_features,
    layer_features,
    mix_layers,
)
from course_lib.elmo.heads import (
    Elmo,
    SentenceClassifier,
    SentencePairClassifier,
    TokenTagger,
)
from course_lib.elmo.pretrained import (
    BiLMSettings,
    bilm_batches,
    pretrained_bilm,
    train_bilm,
)
from course_lib.elmo.probes import (
    MixResult,
    ScratchTagger,
    learn_scalar_mix,
    mixed_probe_accuracy,
    train_scratch_tagger,
    within_across_cosine,
)
from course_lib.elmo.scalar_mix import (
    ScalarMix,
    check_layers,
)
from course_lib.elmo.viz import (
    LayerWeightExplorer,
    TaskProbe,
    plot_layer_weights,
)

__all__ = [
    "BiLM",
    "bilm_batches",
    "BiLMConfig",
    "BiLMSettings",
    "BOS_ID",
    "BOW",
    "CharEncoder",
    "check_layers",
    "direction_features",
    "DIRECTIONS",
    "Elmo",
    "EOS_ID",
    "EOW",
    "Highway",
    "layer_features",
    "LayerWeightExplorer",
    "learn_scalar_mix",
    "mix_layers",
    "mixed_probe_accuracy",
    "MixResult",
    "NUM_CHARS",
    "PAD_ID",
    "plot_layer_weights",
    "pretrained_bilm",
    "ScalarMix",
    "ScratchTagger",
    "SentenceClassifier",
    "SentencePairClassifier",
    "TaskProbe",
    "TokenTagger",
    "train_bilm",
    "train_scratch_tagger",
    "UNK_ID",
    "within_across_cosine",
    "word_characters",
]
