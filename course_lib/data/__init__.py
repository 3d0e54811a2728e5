"""Corpora: the toy world (generated, with gold labels and exact probabilities), its task datasets,
real text through the same interface, and downloads with checksums.

>>> corpus = load_corpus("toyworld", split="validation")
>>> world = toy_world(); world.perplexity_bound(corpus).perplexity
"""

from course_lib.data.corpus import SPLITS, Analogy, Corpus, Document, Sentence, SimilarityPair
from course_lib.data.download import ChecksumError, DownloadError  # the module stays `course_lib.data.download`
from course_lib.data.family_tasks import (
    FAMILY_TASKS,
    AgreementExample,
    DepthExample,
    EntailmentPair,
    HomographExample,
    JointExample,
    StatementExample,
    agreement_examples,
    clause_depth_examples,
    entailment_pairs,
    family_task,
    homograph_examples,
    joint_examples,
    label_budget,
    long_range_sense_examples,
    many_cue_sense_examples,
    many_cue_words,
    statement_examples,
    statement_qa_examples,
)
from course_lib.data.loaders import available_corpora, load_analogy_set, load_corpus, load_similarity_set
from course_lib.data.tasks import (
    QAExample,
    SameSensePair,
    SenseExample,
    SentencePair,
    Seq2SeqExample,
    SpamMessage,
    TaggedSentence,
    TopicPair,
    analogy_set,
    next_sentence_pairs,
    phrase_reversal_examples,
    pos_tagging_examples,
    qa_examples,
    same_sense_pairs,
    same_topic_pairs,
    sense_examples,
    similarity_set,
    spam_messages,
)
from course_lib.data.toyworld import TOY_WORLDS, ToyWorld, ToyWorldConfig, named_toy_world, toy_world, toyworld_corpus

__all__ = [
    "AgreementExample", "DepthExample", "EntailmentPair", "FAMILY_TASKS", "HomographExample", "JointExample",
    "StatementExample", "agreement_examples", "clause_depth_examples", "entailment_pairs", "family_task",
    "homograph_examples", "joint_examples", "label_budget",
    "long_range_sense_examples", "many_cue_sense_examples", "many_cue_words", "statement_examples",
    "statement_qa_examples",
    "SPLITS", "Analogy", "ChecksumError", "Corpus", "Document", "DownloadError", "QAExample", "SameSensePair",
    "Sentence", "SenseExample", "SentencePair", "Seq2SeqExample", "SimilarityPair", "SpamMessage", "TaggedSentence",
    "TopicPair", "ToyWorld", "ToyWorldConfig", "analogy_set", "available_corpora",
    "load_analogy_set", "load_corpus", "load_similarity_set", "next_sentence_pairs", "phrase_reversal_examples",
    "pos_tagging_examples", "qa_examples", "same_sense_pairs", "same_topic_pairs", "sense_examples", "similarity_set", "spam_messages",
    "toy_world", "toyworld_corpus", "TOY_WORLDS", "named_toy_world",
]
