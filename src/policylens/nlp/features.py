"""Sentence features for the governance classifier: n-grams plus cue and facet counts.

Features are named strings so that a model's vocabulary (``model.json``) can be
read by a person: ``w:regulator`` (a lemma), ``b:existing regulator`` (a lemma
bigram), ``cue:sector_specific:existing_regulators``, ``neg:centralized:new_ai_body``
(that cue, negated), ``n:eff_sector`` (log count of evidence for one approach
after negation), ``facet:sector`` and so on.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
from scipy import sparse
from spacy.tokens import Span

from policylens.nlp.cues import CUE_SPANS, MARKER_SPANS

FACET_SPANS = "facets"
_NUM = "<num>"


def _lemma(token_lemma: str, token_lower: str) -> str:
    lemma = token_lemma.lower() if token_lemma else token_lower
    return lemma


def sentence_features(sent: Span) -> dict[str, float]:
    """All named features of one sentence (binary n-grams, counted cues)."""
    feats: dict[str, float] = {}
    words: list[str] = []
    for token in sent:
        if token.is_punct or token.is_space:
            continue
        if token.like_num:
            words.append(_NUM)
        else:
            words.append(_lemma(token.lemma_, token.lower_))
    for word in words:
        feats["w:" + word] = 1.0
    for a, b in itertools.pairwise(words):
        feats["b:" + a + " " + b] = 1.0
    _add_cue_features(sent, feats)
    return feats


def _add_cue_features(sent: Span, feats: dict[str, float]) -> None:
    doc = sent.doc
    counts = {"centralized": 0, "sector_specific": 0, "centralized_neg": 0, "sector_specific_neg": 0}
    spans = doc.spans
    if CUE_SPANS in spans:
        for span in spans[CUE_SPANS]:
            if not sent.start <= span.start < sent.end:
                continue
            approach = span.label_
            if span._.negated:
                feats["neg:" + approach + ":" + span.id_] = 1.0
                counts[approach + "_neg"] += 1
            else:
                key = "cue:" + approach + ":" + span.id_
                feats[key] = feats.get(key, 0.0) + 1.0
                counts[approach] += 1
    if MARKER_SPANS in spans:
        for span in spans[MARKER_SPANS]:
            if sent.start <= span.start < sent.end:
                feats["m:" + span.label_] = 1.0
    if FACET_SPANS in spans:
        for span in spans[FACET_SPANS]:
            if sent.start <= span.start < sent.end:
                kind, _, _name = span.label_.partition(":")
                feats["facet:" + kind] = 1.0
                feats["facet:" + span.label_] = 1.0
    central = counts["centralized"] + counts["sector_specific_neg"]
    sector = counts["sector_specific"] + counts["centralized_neg"]
    feats["n:central"] = math.log1p(counts["centralized"])
    feats["n:sector"] = math.log1p(counts["sector_specific"])
    feats["n:eff_central"] = math.log1p(central)
    feats["n:eff_sector"] = math.log1p(sector)
    feats["n:negated"] = math.log1p(counts["centralized_neg"] + counts["sector_specific_neg"])
    feats["n:balance"] = math.tanh(central - sector)
    if central == 0 and sector == 0:
        feats["n:no_cue"] = 1.0
    length = len(sent)
    feats["len:short" if length < 8 else "len:long" if length > 45 else "len:mid"] = 1.0


KEEP_PREFIXES = ("n:", "len:", "m:", "facet:", "cue:", "neg:")


def build_vocabulary(rows: Iterable[Mapping[str, float]], *, min_df: int = 2,
                     keep_prefixes: Sequence[str] = KEEP_PREFIXES) -> dict[str, int]:
    """Feature name -> column: n-grams seen in at least ``min_df`` sentences, all cue features."""
    df: dict[str, int] = {}
    for row in rows:
        for name in row:
            df[name] = df.get(name, 0) + 1
    names = sorted(n for n, c in df.items() if c >= min_df or n.startswith(tuple(keep_prefixes)))
    return {name: i for i, name in enumerate(names)}


def to_matrix(rows: Sequence[Mapping[str, float]], vocabulary: Mapping[str, int]) -> sparse.csr_matrix:
    """Rows of named features -> a CSR matrix over ``vocabulary`` (unknown names dropped)."""
    indptr = [0]
    indices: list[int] = []
    data: list[float] = []
    get = vocabulary.get
    for row in rows:
        for name, value in row.items():
            col = get(name)
            if col is not None:
                indices.append(col)
                data.append(value)
        indptr.append(len(indices))
    return sparse.csr_matrix(
        (np.asarray(data, dtype=np.float64), np.asarray(indices, dtype=np.int32), np.asarray(indptr)),
        shape=(len(rows), len(vocabulary)),
    )
