"""The centralization index of one tagged document, its bootstrap interval and evidence.

For sentence *i* with approach probabilities ``c_i = P(centralized)`` and
``s_i = P(sector_specific)``::

    index = sum_i (c_i - s_i) / (sum_i (c_i + s_i) + prior)

Neutral probability mass appears in neither sum, so neutral sentences carry no
weight. ``prior`` (default 1.0, one sentence's worth of governance language)
pulls documents that barely speak about governance towards 0 ("balanced or
silent"). The index is strictly inside (-1, 1) and swapping the two approaches
negates it. See docs/ranking.md.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from policylens.errors import UsageError
from policylens.labels import FACET_KINDS, LABELS
from policylens.nlp.types import TaggedSentence
from policylens.rank.types import Evidence
from policylens.settings import resolve_settings


@dataclass(frozen=True, slots=True)
class IndexSettings:
    """How the aggregate index, its interval and the evidence are computed."""

    prior: float = 1.0  # pseudo-mass added to the denominator: shrinks silent documents to 0
    resamples: int = 1000  # bootstrap resamples over sentences
    confidence: float = 0.95
    seed: int = 0
    min_mass: float = 1.0  # below this much non-neutral mass the interval is the whole axis
    n_evidence: int = 5  # sentences per side

    def __post_init__(self) -> None:
        if self.prior < 0:
            raise UsageError(f"prior must be >= 0, not {self.prior}")
        if self.resamples < 1:
            raise UsageError(f"resamples must be >= 1, not {self.resamples}")
        if not 0 < self.confidence < 1:
            raise UsageError(f"confidence must be between 0 and 1, not {self.confidence}")
        if self.n_evidence < 0:
            raise UsageError(f"n_evidence must be >= 0, not {self.n_evidence}")

    @classmethod
    def resolve(cls, value: IndexSettings | Mapping[str, Any] | None) -> IndexSettings:
        """Accept ``None`` (defaults), a dict of overrides, or an instance."""
        return resolve_settings(cls, value, what="index")


def approach_probs(sentences: Sequence[TaggedSentence]) -> tuple[np.ndarray, np.ndarray]:
    """Arrays of P(centralized) and P(sector_specific), one entry per sentence.

    A sentence labelled ``neutral`` contributes 0 to both: the codebook gives neutral
    sentences no weight. Without this, the small approach probabilities of thousands
    of neutral sentences (a 150-page guidance, a text in another language) would add
    up and place a document that says nothing about governance.
    """
    n = len(sentences)
    governance = np.fromiter((x.label != "neutral" for x in sentences), dtype=float, count=n)
    c = np.fromiter((float(x.probs["centralized"]) for x in sentences), dtype=float, count=n)
    s = np.fromiter((float(x.probs["sector_specific"]) for x in sentences), dtype=float, count=n)
    return c * governance, s * governance


def centralization_index(c: np.ndarray, s: np.ndarray, prior: float = 1.0) -> float:
    """The index from per-sentence approach probabilities (0.0 for an empty document)."""
    denominator = float(np.sum(c) + np.sum(s)) + prior
    if denominator <= 0.0:
        return 0.0
    return float(np.sum(c) - np.sum(s)) / denominator


def resample_weights(n: int, resamples: int, seed: int, *, chunk: int = 250) -> list[np.ndarray]:
    """Bootstrap resamples as count matrices (``resamples`` x ``n``), in row chunks.

    Each row says how often each sentence was drawn; a matrix product with a
    per-sentence quantity gives that quantity's sum in every resample at once.
    Chunking bounds memory for long documents (the EU AI Act has ~5,000 sentences).
    """
    rng = np.random.default_rng(seed)
    out: list[np.ndarray] = []
    left = resamples
    while left > 0:
        rows = min(chunk, left)
        out.append(rng.multinomial(n, np.full(n, 1.0 / n), size=rows).astype(np.float64))
        left -= rows
    return out


def bootstrap_interval(c: np.ndarray, s: np.ndarray, settings: IndexSettings) -> tuple[float, float]:
    """Percentile bootstrap interval of the index, resampling sentences.

    A document with less non-neutral mass than ``settings.min_mass`` says too
    little to place it: its interval is the whole axis (-1, 1) rather than a
    falsely precise point.
    """
    n = len(c)
    if n == 0 or float(np.sum(c) + np.sum(s)) < settings.min_mass:
        return -1.0, 1.0
    diff, mass = c - s, c + s
    indices = []
    for counts in resample_weights(n, settings.resamples, settings.seed):
        indices.append((counts @ diff) / (counts @ mass + settings.prior))
    values = np.concatenate(indices)
    tail = (1.0 - settings.confidence) / 2.0
    low, high = np.quantile(values, [tail, 1.0 - tail])
    return float(low), float(high)


def label_counts(sentences: Sequence[TaggedSentence]) -> dict[str, int]:
    """Number of sentences per approach label (every label present, zeros included)."""
    counts = Counter(s.label for s in sentences)
    return {label: int(counts.get(label, 0)) for label in LABELS}


def facet_profile(sentences: Sequence[TaggedSentence]) -> dict[str, dict[str, int]]:
    """Facet kind -> facet name -> number of sentences carrying it (names in codebook order)."""
    profile: dict[str, dict[str, int]] = {}
    for kind, names in FACET_KINDS.items():
        counts = Counter(name for s in sentences for name in set(getattr(s.facets, kind)))
        ordered = {name: counts[name] for name in names if counts.get(name)}
        # names outside the vocabulary are kept (after the known ones) rather than lost
        ordered.update({name: n for name, n in sorted(counts.items()) if name not in ordered})
        profile[kind] = ordered
    return profile


def select_evidence(sentences: Sequence[TaggedSentence], c: np.ndarray, s: np.ndarray,
                    settings: IndexSettings) -> tuple[Evidence, ...]:
    """The sentences that push the index most each way, strongest first, centralizing side first.

    A sentence's ``weight`` is its signed share of the index,
    ``(c_i - s_i) / (sum(c + s) + prior)``, so the weights sum to the index.
    Repeated sentences (running headers, boilerplate) are shown once.
    """
    if not sentences or settings.n_evidence == 0:
        return ()
    denominator = float(np.sum(c) + np.sum(s)) + settings.prior
    if denominator <= 0.0:
        return ()
    weights = (c - s) / denominator
    chosen: list[Evidence] = []
    for sign in (1.0, -1.0):
        order = np.argsort(-sign * weights, kind="stable")
        seen: set[str] = set()
        for i in order:
            if sign * weights[i] <= 0.0 or len(seen) == settings.n_evidence:
                break
            key = " ".join(sentences[i].text.lower().split())
            if key in seen:
                continue
            seen.add(key)
            sentence = sentences[i]
            chosen.append(Evidence(text=sentence.text, label=sentence.label, page=sentence.page,
                                   weight=float(weights[i])))
    return tuple(chosen)
