"""A generated collection for the grouping and report tests: ~1,000 small scored documents.

Scores and tagged sentences are made directly (no tagger), so a thousand documents take a
second; the sentences are written for these tests. Each document belongs to a region whose
documents lean one way on average, and carries a date; the metadata table lists every
document but a few, plus a few rows for documents that do not exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from policylens.labels import LABELS
from policylens.nlp.types import Cue, Facets, TaggedDocument, TaggedSentence
from policylens.rank.types import Evidence, FrameworkScore

REGIONS = {"Northmark": 0.55, "Eastvale": 0.15, "Southport": -0.2, "Westreach": -0.6}
SENTENCES = {
    "centralized": "The {n} Authority keeps one register of every system and issues binding rules for all "
                   "sectors, item {i}.",
    "sector_specific": "The {n} health regulator applies its own existing powers to diagnostic software, "
                       "item {i}.",
    "neutral": "Funding for the {n} programme of skills courses rises next year, item {i}.",
}
CUES = {"centralized": ("one register", "centralized"),
        "sector_specific": ("existing powers", "sector_specific")}


@dataclass(frozen=True)
class Collection:
    scores: list[FrameworkScore]
    tagged: dict[str, TaggedDocument]
    ids: list[str]
    metadata: list[dict[str, Any]]  # rows of the metadata table
    region_of: Mapping[str, str]


def sentence(doc: str, i: int, label: str, name: str) -> TaggedSentence:
    text = SENTENCES[label].format(n=name, i=i)
    probs = {"centralized": (0.8, 0.1, 0.1), "sector_specific": (0.1, 0.8, 0.1), "neutral": (0.05, 0.05, 0.9)}
    cues: tuple[Cue, ...] = ()
    if label in CUES:
        cue_text, approach = CUES[label]
        start = text.find(cue_text)
        cues = (Cue(text=cue_text, approach=approach,  # type: ignore[arg-type]
                    start=start, end=start + len(cue_text)),)
    return TaggedSentence(doc=doc, sentence_id=i, text=text, label=label,  # type: ignore[arg-type]
                          probs=dict(zip(LABELS, probs[label], strict=True)), cues=cues,
                          facets=Facets(sector=("healthcare",) if label == "sector_specific" else ()),
                          page=1 + i // 8)


def make_collection(n: int = 1000, *, seed: int = 7, sentences: int = 12, missing: int = 5,
                    extra_rows: int = 3) -> Collection:
    rng = np.random.default_rng(seed)
    regions = list(REGIONS)
    scores, tagged, ids, rows, region_of = [], {}, [], [], {}
    for k in range(n):
        doc_id = f"doc{k:04d}"
        region = regions[k % len(regions)]
        index = float(np.clip(REGIONS[region] + rng.normal(0, 0.25), -0.98, 0.98))
        source = f"collection/{doc_id}.txt"
        labels = rng.choice(LABELS, size=sentences, p=_mix(index))
        tagged_doc = TaggedDocument(
            source=source, title=f"Framework {k} of {region}", sha256=f"{k:064x}", n_pages=2,
            sentences=tuple(sentence(source, i, str(lab), region) for i, lab in enumerate(labels)),
            model_version="generated")
        counts = {label: int(sum(1 for lab in labels if lab == label)) for label in LABELS}
        governance = [s for s in tagged_doc.sentences if s.label != "neutral"]
        evidence = tuple(Evidence(text=s.text, label=s.label, page=s.page,
                                  weight=0.1 if s.label == "centralized" else -0.1) for s in governance[:10])
        half = float(rng.uniform(0.1, 0.4))
        scores.append(FrameworkScore(doc=source, title=tagged_doc.title, index=index,
                                     ci_low=max(-1.0, index - half), ci_high=min(1.0, index + half),
                                     n_sentences=sentences, counts=counts,
                                     facets={"sector": {"healthcare": counts["sector_specific"]}},
                                     evidence=evidence, model_version="generated"))
        tagged[source] = tagged_doc
        ids.append(doc_id)
        region_of[doc_id] = region
        if k >= missing:  # the first few documents have no metadata row
            year = 2018 + k % 8
            rows.append({"doc_id": doc_id, "region": region, "date": f"{year}-{1 + k % 12:02d}-15",
                         "name": f"Measure {k} ({region})"})
    rows += [{"doc_id": f"ghost{j}", "region": "Nowhere", "date": "2020-01-01", "name": "ghost"}
             for j in range(extra_rows)]
    return Collection(scores=scores, tagged=tagged, ids=ids, metadata=rows, region_of=region_of)


def _mix(index: float) -> list[float]:
    governance = 0.6
    c = governance * (1 + index) / 2
    return [c, governance - c, 1 - governance]


def write_metadata_csv(path, rows: list[dict[str, Any]]) -> None:  # type: ignore[no-untyped-def]
    import csv

    with open(path, "w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
