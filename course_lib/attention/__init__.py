"""Notebooks 05-06: attention: masks, scaled dot-product and additive attention, multi-head attention, small models.
"""

from course_lib.attention.functions import (
    AdditiveAttention,
    additive_attention,
    causal_mask,
    combine_masks,
    padding_mask,
    scaled_dot_product_attention,
)
from course_lib.attention.models import (
    LOOKUP_KINDS,
    NO_SENSE,
    PoolingClassifier,
    SelfAttentionTagger,
    SenseLookupExample,
    lookup_batch,
    sense_lookup_examples,
    sense_tagging_batch,
    sense_tagging_labels,
)
from course_lib.attention.multi_head import (
    MultiHeadAttention,
    multi_head_parameter_count,
)

__all__ = [
    "additive_attention",
    "AdditiveAttention",
    "causal_mask",
    "combine_masks",
    "lookup_batch",
    "multi_head_parameter_count",
    "MultiHeadAttention",
    "LOOKUP_KINDS",
    "NO_SENSE",
    "padding_mask",
    "PoolingClassifier",
    "scaled_dot_product_attention",
    "SelfAttentionTagger",
    "sense_lookup_examples",
    "sense_tagging_batch",
    "sense_tagging_labels",
    "SenseLookupExample",
]
