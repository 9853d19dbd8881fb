"""Document-level features for the framework scorer, built from per-sentence rows.

Every feature except the last two is the *mean* of a per-sentence quantity, so
the features of a bootstrap resample are one matrix product away
(``counts @ rows / n``) and the scorer's interval is as cheap as the aggregate's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np

from policylens.nlp.types import TaggedSentence

SENTENCE_FEATURES: Final[tuple[str, ...]] = (
    "p_centralized",
    "p_sector_specific",
    "p_neutral",
    "is_centralized",
    "is_sector_specific",
    "has_sector",
    "level_global",
    "level_national",
    "level_subnational",
    "instr_legislation",
    "instr_licensing_registration",
    "instr_audit_assessment",
    "instr_sandbox_testbed",
    "instr_standards",
    "instr_international_partnership",
    "style_prescriptive",
    "style_performance_based",
    "negated_cue",
)
DERIVED_FEATURES: Final[tuple[str, ...]] = ("prob_index", "label_index")
FEATURE_NAMES: Final[tuple[str, ...]] = SENTENCE_FEATURES + DERIVED_FEATURES


def sentence_rows(sentences: Sequence[TaggedSentence]) -> np.ndarray:
    """One row of ``SENTENCE_FEATURES`` per sentence (shape n x len(SENTENCE_FEATURES))."""
    rows = np.zeros((len(sentences), len(SENTENCE_FEATURES)), dtype=float)
    for i, s in enumerate(sentences):
        f = s.facets
        rows[i] = (
            float(s.probs["centralized"]),
            float(s.probs["sector_specific"]),
            float(s.probs["neutral"]),
            s.label == "centralized",
            s.label == "sector_specific",
            bool(f.sector),
            "global" in f.level,
            "national" in f.level,
            "subnational" in f.level,
            "legislation" in f.instrument,
            "licensing_registration" in f.instrument,
            "audit_assessment" in f.instrument,
            "sandbox_testbed" in f.instrument,
            "standards" in f.instrument,
            "international_partnership" in f.instrument,
            "prescriptive" in f.style,
            "performance_based" in f.style,
            any(c.negated for c in s.cues),
        )
    return rows


def features_from_sums(sums: np.ndarray, n: np.ndarray | float, prior: float = 1.0) -> np.ndarray:
    """Document features from per-sentence sums (one row per document or resample).

    ``sums`` has shape (k, len(SENTENCE_FEATURES)); ``n`` is the number of sentences of
    each row. Empty documents get all-zero features.
    """
    sums = np.atleast_2d(sums)
    n_arr = np.broadcast_to(np.asarray(n, dtype=float), (sums.shape[0],))
    safe = np.where(n_arr > 0, n_arr, 1.0)
    means = sums / safe[:, None]
    pc, ps = sums[:, 0], sums[:, 1]
    lc, ls = sums[:, 3], sums[:, 4]
    prob_index = (pc - ps) / (pc + ps + prior)
    label_index = (lc - ls) / (lc + ls + prior)
    return np.column_stack([means, prob_index, label_index])


def document_features(sentences: Sequence[TaggedSentence], prior: float = 1.0) -> np.ndarray:
    """The feature vector (length ``len(FEATURE_NAMES)``) of one document."""
    rows = sentence_rows(sentences)
    return np.asarray(features_from_sums(rows.sum(axis=0), float(len(sentences)), prior)[0])
