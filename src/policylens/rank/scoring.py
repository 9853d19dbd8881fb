"""Score one tagged document (``score``) and order many (``rank``).

Three methods place a document on the axis (docs/ranking.md compares them):

- ``aggregate``: the centralization index over sentence probabilities (``index.py``);
- ``classifier``: the trained framework scorer (``classifier.py``) over document features;
- ``wordscores``: Wordscores scaling of the words themselves (``wordscores.py``).

Whatever the method, the counts, facets, evidence and the aggregate index
(in ``extra["aggregate_index"]``) are reported, and the interval comes from the
same seeded bootstrap over sentences.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from policylens.errors import UsageError
from policylens.nlp.types import TaggedDocument
from policylens.rank.features import features_from_sums, sentence_rows
from policylens.rank.index import (
    IndexSettings,
    approach_probs,
    bootstrap_interval,
    centralization_index,
    facet_profile,
    label_counts,
    resample_weights,
    select_evidence,
)
from policylens.rank.types import FrameworkScore
from policylens.rank.wordscores import Wordscores

if TYPE_CHECKING:  # scikit-learn loads only when the classifier is used
    from policylens.rank.classifier import FrameworkScorer

METHODS: Final[tuple[str, ...]] = ("aggregate", "classifier", "wordscores")
# The default is the method that did best on held-out frameworks and the sample corpus
# (docs/ranking.md, "Which method").
DEFAULT_METHOD: Final[str] = "aggregate"
SCORER_FILE: Final[str] = "scorer.json"
WORDSCORES_FILE: Final[str] = "wordscores.json"


def models_dir() -> Path:
    """Where the rank models live: ``$POLICYLENS_RANK_MODELS``, the installed copy, or the repo's."""
    override = os.environ.get("POLICYLENS_RANK_MODELS")
    if override:
        return Path(override)
    package = Path(__file__).resolve().parents[1]
    installed = package / "_models" / "rank"
    if installed.is_dir():
        return installed
    return package.parents[1] / "models" / "rank"


def load_scorer(path: Path | None = None) -> FrameworkScorer:
    """The framework scorer (cached per path); ``ModelError`` if missing or mismatched."""
    return _load_scorer(path or models_dir() / SCORER_FILE)


def load_wordscores(path: Path | None = None) -> Wordscores:
    """The Wordscores model (cached per path)."""
    return _load_wordscores(path or models_dir() / WORDSCORES_FILE)


@functools.lru_cache(maxsize=4)
def _load_scorer(path: Path) -> FrameworkScorer:
    from policylens.rank.classifier import FrameworkScorer

    return FrameworkScorer.load(path)


@functools.lru_cache(maxsize=4)
def _load_wordscores(path: Path) -> Wordscores:
    return Wordscores.load(path)


def check_method(method: str | None) -> str:
    method = method or DEFAULT_METHOD
    if method not in METHODS:
        raise UsageError(f"unknown method {method!r}: use one of {', '.join(METHODS)}")
    return method


def score(tagged: TaggedDocument, *, method: str | None = None,
          settings: IndexSettings | Mapping[str, Any] | None = None) -> FrameworkScore:
    """Place one tagged document on the axis from -1 (sector-specific) to +1 (centralized)."""
    method = check_method(method)
    cfg = IndexSettings.resolve(settings)
    sentences = tagged.sentences
    c, s = approach_probs(sentences)
    aggregate = centralization_index(c, s, cfg.prior)
    silent = float(np.sum(c) + np.sum(s)) < cfg.min_mass
    model_version = tagged.model_version
    if method == "aggregate":
        value = aggregate
        low, high = bootstrap_interval(c, s, cfg)
    elif method == "classifier":
        scorer = load_scorer()
        value, low, high = _classifier_score(scorer, sentences, cfg, silent)
        model_version = f"{tagged.model_version}+scorer"
    else:
        words = load_wordscores()
        value, low, high = _wordscores_score(words, [x.text for x in sentences], cfg)
        model_version = "wordscores"
    return FrameworkScore(
        doc=tagged.source,
        title=tagged.title,
        index=float(value),
        ci_low=float(min(low, value)),
        ci_high=float(max(high, value)),
        n_sentences=len(sentences),
        counts=label_counts(sentences),
        facets=facet_profile(sentences),
        evidence=select_evidence(sentences, c, s, cfg),
        method=method,
        model_version=model_version,
        extra={"aggregate_index": round(aggregate, 4), "silent": silent, "n_pages": tagged.n_pages,
               "sha256": tagged.sha256},
        scope=tagged.scope,
    )


def _classifier_score(scorer: FrameworkScorer, sentences: Any, cfg: IndexSettings,
                      silent: bool) -> tuple[float, float, float]:
    rows = sentence_rows(sentences)
    n = len(sentences)
    value = float(scorer.position(features_from_sums(rows.sum(axis=0), float(n), cfg.prior))[0])
    if n == 0 or silent:
        return value, -1.0, 1.0
    values = [scorer.position(features_from_sums(counts @ rows, float(n), cfg.prior))
              for counts in resample_weights(n, cfg.resamples, cfg.seed)]
    return value, *_percentiles(np.concatenate(values), cfg.confidence)


def _wordscores_score(words: Wordscores, texts: list[str], cfg: IndexSettings
                      ) -> tuple[float, float, float]:
    sums, counts_scored = words.sentence_sums(texts)
    total = float(counts_scored.sum())
    if total == 0:
        return 0.0, -1.0, 1.0
    value = float(words.rescale(sums.sum() / total))
    values = []
    for counts in resample_weights(len(texts), cfg.resamples, cfg.seed):
        scored = counts @ counts_scored
        raw = np.divide(counts @ sums, scored, out=np.zeros(len(scored)), where=scored > 0)
        values.append(words.rescale(raw))
    return value, *_percentiles(np.concatenate(values), cfg.confidence)


def _percentiles(values: np.ndarray, confidence: float) -> tuple[float, float]:
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(values, [tail, 1.0 - tail])
    return float(low), float(high)


def rank(scores: Iterable[FrameworkScore]) -> list[FrameworkScore]:
    """Sort by index, most centralized first, and set ``rank`` (1-based; ties share no rank).

    Ties on the index are broken by the narrower interval, then by document name,
    so the order is deterministic.
    """
    ordered = sorted(scores, key=lambda x: (-x.index, x.ci_high - x.ci_low, x.doc))
    return [s.with_rank(i) for i, s in enumerate(ordered, start=1)]
