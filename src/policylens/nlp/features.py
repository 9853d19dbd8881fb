"""Sentence features for the governance classifier: n-grams plus cue and facet counts.

Features are named strings so that a model's vocabulary (``model.json``) can be
read by a person: ``w:regulator`` (a lemma), ``b:existing regulator`` (a lemma
bigram), ``cue:sector_specific:existing_regulators``, ``neg:centralized:new_ai_body``
(that cue, negated), ``n:eff_sector`` (log count of evidence for one approach
after negation), ``facet:sector`` and so on.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
from scipy import sparse
from spacy.attrs import IS_PUNCT, IS_SPACE, LEMMA, LIKE_NUM, LOWER
from spacy.tokens import Doc, Span

from policylens.nlp.cues import CUE_SPANS, MARKER_SPANS

FACET_SPANS = "facets"
#: ``doc.user_data`` key where the content model leaves each sentence's features, so that the
#: role model, which runs after it on the same sentences, does not compute them again.
FEATURE_CACHE = "policylens_features"
_NUM = "<num>"


def sentence_features(sent: Span) -> dict[str, float]:
    """All named features of one sentence (binary n-grams, counted cues)."""
    return doc_features(sent.doc, [(sent.start, sent.end)])[0]


def _bucket(spans: Iterable[Span], starts: list[int], ends: list[int]) -> list[list[Span]]:
    """Spans grouped by the sentence they start in (one pass, bisect per span)."""
    out: list[list[Span]] = [[] for _ in starts]
    for span in spans:
        i = bisect.bisect_right(starts, span.start) - 1
        if i >= 0 and span.start < ends[i]:
            out[i].append(span)
    return out


def doc_features(doc: Doc, bounds: Sequence[tuple[int, int]]) -> list[dict[str, float]]:
    """Named features of each sentence ``doc[start:end]`` of ``doc``."""
    starts = [b[0] for b in bounds]
    ends = [b[1] for b in bounds]
    spans = doc.spans
    cues = _bucket(spans[CUE_SPANS], starts, ends) if CUE_SPANS in spans else [[] for _ in bounds]
    markers = _bucket(spans[MARKER_SPANS], starts, ends) if MARKER_SPANS in spans else [[] for _ in bounds]
    facets = _bucket(spans[FACET_SPANS], starts, ends) if FACET_SPANS in spans else [[] for _ in bounds]
    out: list[dict[str, float]] = []
    # One array of token attributes instead of a Token object per token (the slow part).
    rows = doc.to_array([IS_PUNCT, IS_SPACE, LIKE_NUM, LEMMA, LOWER]).tolist() if len(doc) else []
    strings = doc.vocab.strings
    for k, (start, end) in enumerate(bounds):
        feats: dict[str, float] = {}
        words: list[str] = []
        for punct, space, num, lemma, lower in rows[start:end]:
            if punct or space:
                continue
            if num:
                words.append(_NUM)
            else:  # the lemma, lower-cased; a token without one gives its lower-case form
                words.append(strings[lemma].lower() if lemma else strings[lower])
        for word in words:
            feats["w:" + word] = 1.0
        for a, b in itertools.pairwise(words):
            feats["b:" + a + " " + b] = 1.0
        _add_cue_features(cues[k], markers[k], facets[k], end - start, feats)
        out.append(feats)
    return out


def _add_cue_features(cues: list[Span], markers: list[Span], facets: list[Span], length: int,
                      feats: dict[str, float]) -> None:
    counts = {"centralized": 0, "sector_specific": 0, "centralized_neg": 0, "sector_specific_neg": 0}
    for span in cues:
        approach = span.label_
        if span._.negated:
            feats["neg:" + approach + ":" + span.id_] = 1.0
            counts[approach + "_neg"] += 1
        else:
            key = "cue:" + approach + ":" + span.id_
            feats[key] = feats.get(key, 0.0) + 1.0
            counts[approach] += 1
    for span in markers:
        feats["m:" + span.label_] = 1.0
    for span in facets:
        kind = span.label_.partition(":")[0]
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
    # Column lookups through ``map`` and the filtering in numpy: a Python loop over every
    # feature of every sentence was a third of the classifiers' time.
    lengths = [len(row) for row in rows]
    total = sum(lengths)
    cols = np.fromiter(map(vocabulary.get, itertools.chain.from_iterable(rows), itertools.repeat(-1)),
                       dtype=np.int64, count=total)
    values = np.fromiter(itertools.chain.from_iterable(row.values() for row in rows), dtype=np.float64,
                         count=total)
    keep = cols >= 0
    owners = np.repeat(np.arange(len(rows)), lengths)[keep]
    indptr = np.concatenate([np.zeros(1, dtype=np.int64),
                             np.cumsum(np.bincount(owners, minlength=len(rows)), dtype=np.int64)])
    return sparse.csr_matrix((values[keep], cols[keep].astype(np.int32), indptr),
                             shape=(len(rows), len(vocabulary)))
