"""Benchmark the sector facets against AGORA's human ``Applications:`` tags.

AGORA (ETO / CSET's AI governance archive) tags each document with the
application areas it governs. ``AGORA_TO_SECTOR`` maps those areas onto the
codebook's sectors; areas with no codebook sector map to ``None`` and are left
out of scoring, and so is the codebook sector ``employment`` (AGORA has no
such area).

A sector is *present* in a document (``present_sectors``) when at least
``min_sentences`` of its sentences mention it (``policylens_facets``, domain
mentions only) **and** it is mentioned in at least ``min_share_of_top`` times
as many sentences as the document's most-mentioned sector. The second condition
keeps sectors named only in passing (a list of example sectors, one definition)
out of documents that are about something else; in a document that mentions
one sector only, it changes nothing.

Scores are document-level micro precision/recall/F1 over (document, sector)
pairs, on AGORA's validated documents. ``split_of`` halves them by a hash of
the AGORA ID: the ``dev`` half is for error analysis, ``test`` is the held-out
figure. ``which="unvalidated"`` scores the documents AGORA annotated but did not
validate instead, to see how far its unreviewed tags agree with the same rule.
"""

from __future__ import annotations

import csv
import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

from spacy.language import Language

from policylens.errors import DataError
from policylens.labels import SECTORS
from policylens.nlp.facets import FACTORY_NAME, sentence_facets

Split = Literal["all", "dev", "test"]
Selection = Literal["validated", "unvalidated"]

APPLICATION_PREFIX: Final = "Applications: "

# AGORA application area -> codebook sector (None: no counterpart, not scored).
AGORA_TO_SECTOR: Final[dict[str, str | None]] = {
    "Agriculture and resource extraction": "agriculture",
    "Arts, sports, leisure, travel, and lifestyle": None,
    "Broadcasting and media production": "media_elections",
    "Business services and analytics": None,
    "Construction and field services": None,
    "Consumer goods": "consumer_retail",
    "Education": "education",
    "Energy and utilities": "energy_infrastructure",
    "Finance and investment": "finance",
    "Government: benefits and welfare": "public_sector",
    "Government: judicial and law enforcement": "law_enforcement_justice",
    "Government: military and public safety": "defense_security",
    "Government: other applications/unspecified": "public_sector",
    "Manufacturing and process automation": None,
    "Medicine, life sciences and public health": "healthcare",
    "Networking and telecommunications": "telecommunications",
    "Sales, retail, and customer relations": "consumer_retail",
    "Security": "defense_security",
    "Transportation": "transportation",
}

SCORED_SECTORS: Final[tuple[str, ...]] = tuple(
    s for s in SECTORS if s in {v for v in AGORA_TO_SECTOR.values() if v is not None}
)

_TRUE: Final = frozenset({"true", "1", "yes", "y", "t"})

# The definition of "present" (chosen on the dev half, see docs/facets.md).
DEFAULT_MIN_SENTENCES: Final = 2
DEFAULT_MIN_SHARE_OF_TOP: Final = 0.2


@dataclass(frozen=True, slots=True)
class AgoraDoc:
    """One AGORA document with its gold sectors (scored sectors only)."""

    agora_id: str
    name: str
    sectors: frozenset[str]
    path: Path


@dataclass(frozen=True, slots=True)
class DocPrediction:
    """A document's gold and predicted (scored) sectors, with the sentence counts of every sector."""

    agora_id: str
    name: str
    gold: frozenset[str]
    predicted: frozenset[str]
    sentence_counts: Mapping[str, int]

    def to_dict(self) -> dict[str, Any]:
        return {
            "agora_id": self.agora_id,
            "name": self.name,
            "gold": sorted(self.gold),
            "predicted": sorted(self.predicted),
            "sentence_counts": dict(sorted(self.sentence_counts.items())),
        }


@dataclass(frozen=True, slots=True)
class PRF:
    """True/false positives and false negatives with precision, recall and F1."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def support(self) -> int:
        return self.tp + self.fn

    def to_dict(self) -> dict[str, Any]:
        return {
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "support": self.support,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
        }


@dataclass(frozen=True, slots=True)
class BenchmarkResult:
    """Micro and per-sector scores for one split."""

    split: str
    n_docs: int
    min_sentences: int
    micro: PRF
    per_sector: Mapping[str, PRF]
    documents: tuple[DocPrediction, ...] = ()
    missing_text: tuple[str, ...] = field(default=())
    min_share_of_top: float = DEFAULT_MIN_SHARE_OF_TOP

    def to_dict(self, *, with_documents: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "split": self.split,
            "n_docs": self.n_docs,
            "min_sentences": self.min_sentences,
            "min_share_of_top": self.min_share_of_top,
            "micro": self.micro.to_dict(),
            "per_sector": {s: prf.to_dict() for s, prf in self.per_sector.items()},
            "missing_text": list(self.missing_text),
        }
        if with_documents:
            data["documents"] = [d.to_dict() for d in self.documents]
        return data


def split_of(agora_id: str) -> Literal["dev", "test"]:
    """A stable half of the corpus for an AGORA ID (first byte of its SHA-256)."""
    digest = hashlib.sha256(str(agora_id).strip().encode("utf-8")).digest()
    return "dev" if digest[0] % 2 == 0 else "test"


def gold_sectors(row: Mapping[str, str]) -> frozenset[str]:
    """The codebook sectors an AGORA CSV row is tagged with (unscored areas dropped)."""
    found = set()
    for area, sector in AGORA_TO_SECTOR.items():
        value = row.get(APPLICATION_PREFIX + area)
        if sector is not None and value is not None and value.strip().lower() in _TRUE:
            found.add(sector)
    return frozenset(found)


def load_agora(
    csv_path: str | Path, fulltext_dir: str | Path, *, which: Selection = "validated"
) -> tuple[list[AgoraDoc], list[str]]:
    """Read AGORA's documents.csv: (documents with a full text, IDs whose text is missing).

    ``which``: the validated documents, or those annotated (``Annotated?``, when the
    column exists) but not validated.
    """
    csv_path, fulltext_dir = Path(csv_path), Path(fulltext_dir)
    try:
        with csv_path.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"cannot read AGORA documents: {exc}", path=str(csv_path)) from exc
    header = set(rows[0]) if rows else set()
    needed = {"AGORA ID", "Validated?"} | {APPLICATION_PREFIX + area for area in AGORA_TO_SECTOR}
    missing_cols = sorted(needed - header)
    if missing_cols:
        raise DataError(f"not an AGORA documents.csv: missing columns {missing_cols}", path=str(csv_path))
    docs: list[AgoraDoc] = []
    missing: list[str] = []
    for row in rows:
        validated = row["Validated?"].strip().lower() in _TRUE
        annotated = row.get("Annotated?", "true").strip().lower() in _TRUE
        if validated != (which == "validated") or not annotated:
            continue
        agora_id = row["AGORA ID"].strip()
        path = fulltext_dir / f"{agora_id}.txt"
        if not path.is_file():
            missing.append(agora_id)
            continue
        name = row.get("Official name") or row.get("Casual name") or agora_id
        docs.append(AgoraDoc(agora_id, name.strip(), gold_sectors(row), path))
    return docs, missing


def benchmark_pipeline() -> Language:
    """The default pipeline for the benchmark: blank English, sentencizer, facets."""
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe(FACTORY_NAME)
    return nlp


def sector_sentence_counts(doc: Any) -> Counter[str]:
    """How many sentences of a processed ``Doc`` mention each sector."""
    counts: Counter[str] = Counter()
    for sent in doc.sents:
        counts.update(sentence_facets(sent).sector)
    return counts


def present_sectors(
    counts: Mapping[str, int],
    *,
    min_sentences: int = DEFAULT_MIN_SENTENCES,
    min_share_of_top: float = DEFAULT_MIN_SHARE_OF_TOP,
) -> frozenset[str]:
    """The sectors present in a document, from how many of its sentences mention each.

    A sector is present when at least ``min_sentences`` sentences mention it and
    it has at least ``min_share_of_top`` times the sentences of the document's
    most-mentioned sector (every codebook sector counts for that maximum).

    >>> sorted(present_sectors({"defense_security": 40, "healthcare": 3, "finance": 12}))
    ['defense_security', 'finance']
    >>> sorted(present_sectors({"healthcare": 2, "finance": 1}))
    ['healthcare']
    """
    _check_rule(min_sentences, min_share_of_top)
    top = max(counts.values(), default=0)
    return frozenset(s for s, n in counts.items() if n >= min_sentences and n >= min_share_of_top * top)


def _check_rule(min_sentences: int, min_share_of_top: float) -> None:
    if min_sentences < 1:
        raise DataError(f"min_sentences must be >= 1, got {min_sentences}")
    if not 0.0 <= min_share_of_top <= 1.0:
        raise DataError(f"min_share_of_top must be between 0 and 1, got {min_share_of_top}")


def predict(
    docs: Sequence[AgoraDoc],
    *,
    nlp: Language | None = None,
    min_sentences: int = DEFAULT_MIN_SENTENCES,
    min_share_of_top: float = DEFAULT_MIN_SHARE_OF_TOP,
    batch_size: int = 8,
) -> list[DocPrediction]:
    """Run the pipeline over the documents' full texts and predict their (scored) present sectors."""
    _check_rule(min_sentences, min_share_of_top)
    nlp = nlp if nlp is not None else benchmark_pipeline()
    texts = (d.path.read_text(encoding="utf-8", errors="replace") for d in docs)
    longest = max((d.path.stat().st_size for d in docs), default=0)
    nlp.max_length = max(nlp.max_length, longest + 1)
    out = []
    for agora_doc, doc in zip(docs, nlp.pipe(texts, batch_size=batch_size), strict=True):
        counts = sector_sentence_counts(doc)
        present = present_sectors(counts, min_sentences=min_sentences, min_share_of_top=min_share_of_top)
        predicted = frozenset(s for s in present if s in SCORED_SECTORS)
        out.append(
            DocPrediction(agora_doc.agora_id, agora_doc.name, agora_doc.sectors, predicted, dict(counts))
        )
    return out


def score(
    predictions: Iterable[DocPrediction],
    *,
    split: str = "all",
    min_sentences: int = DEFAULT_MIN_SENTENCES,
    min_share_of_top: float = DEFAULT_MIN_SHARE_OF_TOP,
    missing_text: Sequence[str] = (),
) -> BenchmarkResult:
    """Micro and per-sector P/R/F1 over (document, sector) pairs of the scored sectors."""
    preds = tuple(predictions)
    tally = {s: [0, 0, 0] for s in SCORED_SECTORS}
    for p in preds:
        for s in SCORED_SECTORS:
            if s in p.predicted and s in p.gold:
                tally[s][0] += 1
            elif s in p.predicted:
                tally[s][1] += 1
            elif s in p.gold:
                tally[s][2] += 1
    per_sector = {s: PRF(*t) for s, t in tally.items()}
    micro = PRF(*(sum(t[i] for t in tally.values()) for i in range(3)))
    return BenchmarkResult(
        split, len(preds), min_sentences, micro, per_sector, preds, tuple(missing_text), min_share_of_top
    )


def run_benchmark(
    csv_path: str | Path,
    fulltext_dir: str | Path,
    *,
    nlp: Language | None = None,
    min_sentences: int = DEFAULT_MIN_SENTENCES,
    min_share_of_top: float = DEFAULT_MIN_SHARE_OF_TOP,
    splits: Sequence[Split] = ("dev", "test", "all"),
    which: Selection = "validated",
) -> dict[str, BenchmarkResult]:
    """Load AGORA's validated (or unvalidated) documents, predict once, and score each split."""
    docs, missing = load_agora(csv_path, fulltext_dir, which=which)
    preds = predict(docs, nlp=nlp, min_sentences=min_sentences, min_share_of_top=min_share_of_top)
    results: dict[str, BenchmarkResult] = {}
    for split in splits:
        chosen = preds if split == "all" else [p for p in preds if split_of(p.agora_id) == split]
        gone = missing if split == "all" else [m for m in missing if split_of(m) == split]
        results[split] = score(
            chosen,
            split=split,
            min_sentences=min_sentences,
            min_share_of_top=min_share_of_top,
            missing_text=gone,
        )
    return results
