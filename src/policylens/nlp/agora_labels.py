"""AGORA's document tags as training labels for the document facet families.

AGORA (ETO / CSET) tags each document with *Applications* (sectors),
*Strategies* (instruments), *Harms*, *Risk factors* and *Incentives*: one
``True``/``False`` column per tag in ``documents.csv``, sub-tags named
``"<tag>: <sub-tag>"``. This module reads those columns and maps them onto
the families a document facet model predicts:

* ``sector``: the codebook's sectors, through ``agora.AGORA_TO_SECTOR``;
* ``instrument``: the codebook's instruments that AGORA also tags
  (``AGORA_TO_INSTRUMENT``; a tag counts with its sub-tags);
* ``agora``: AGORA's own tags, unchanged.

It also knows which documents are evaluation-only (``../shared/corpus/SPLITS.md``):
``training_records`` refuses nothing silently, it leaves them out and says how many.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from policylens.errors import DataError
from policylens.nlp.agora import AGORA_TO_SECTOR, APPLICATION_PREFIX

#: AGORA's five taxonomies, the prefixes of its tag columns.
TAXONOMIES: Final[tuple[str, ...]] = ("Applications", "Harms", "Incentives", "Risk factors", "Strategies")

#: Codebook instrument -> AGORA tags (each counts with its sub-tags, "<tag>: ...").
AGORA_TO_INSTRUMENT: Final[dict[str, tuple[str, ...]]] = {
    "licensing_registration": ("Strategies: Licensing, registration, and certification",),
    "audit_assessment": ("Strategies: Evaluation",),
    "transparency_disclosure": ("Strategies: Disclosure",),
    "sandbox_testbed": ("Strategies: Pilots and testbeds",),
    "funding_incentives": ("Strategies: Government support", "Incentives: Subsidies"),
}

EVAL_LIST: Final = "eval_documents.txt"
_TRUE: Final = frozenset({"true", "1", "yes", "y", "t"})


@dataclass(frozen=True, slots=True)
class AgoraRecord:
    """One AGORA document: its id, name, review state, true tags and full-text path."""

    agora_id: str
    name: str
    annotated: bool
    validated: bool
    tags: frozenset[str]  # the column names (e.g. "Strategies: Disclosure") that are True
    path: Path


def tag_columns(header: Iterable[str]) -> list[str]:
    """The tag columns of a documents.csv header, in file order."""
    return [name for name in header if name.split(":", 1)[0] in TAXONOMIES and ":" in name]


def read_agora(csv_path: str | Path, fulltext_dir: str | Path) -> list[AgoraRecord]:
    """Every row of documents.csv whose full text exists, with its true tags."""
    csv_path, fulltext_dir = Path(csv_path), Path(fulltext_dir)
    try:
        with csv_path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            rows = list(reader)
            header = list(reader.fieldnames or [])
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"cannot read AGORA documents: {exc}", path=str(csv_path)) from exc
    columns = tag_columns(header)
    if "AGORA ID" not in header or not any(c.startswith(APPLICATION_PREFIX) for c in columns):
        raise DataError("not an AGORA documents.csv: no 'AGORA ID' or no 'Applications: ...' columns",
                        path=str(csv_path))
    records = []
    for row in rows:
        agora_id = (row.get("AGORA ID") or "").strip()
        path = fulltext_dir / f"{agora_id}.txt"
        if not agora_id or not path.is_file():
            continue
        name = (row.get("Official name") or row.get("Casual name") or agora_id).strip()
        tags = frozenset(c for c in columns if (row.get(c) or "").strip().lower() in _TRUE)
        records.append(AgoraRecord(agora_id, name, _true(row.get("Annotated?", "true")),
                                   _true(row.get("Validated?", "false")), tags, path))
    return records


def _true(value: str | None) -> bool:
    return (value or "").strip().lower() in _TRUE


def evaluation_only(corpus_dir: str | Path) -> frozenset[str]:
    """The AGORA ids the corpus's ``eval_documents.txt`` reserves for evaluation."""
    path = Path(corpus_dir) / EVAL_LIST
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise DataError(f"cannot read the list of evaluation-only documents: {exc}; training needs it "
                        "to leave them out", path=str(path)) from None
    ids = set()
    for line in lines:
        entry = line.strip()
        if entry.startswith("agora/fulltext/") and entry.endswith(".txt"):
            ids.add(entry.removeprefix("agora/fulltext/").removesuffix(".txt"))
    return frozenset(ids)


def split_records(records: Iterable[AgoraRecord], held_out: frozenset[str]
                  ) -> tuple[list[AgoraRecord], list[AgoraRecord], list[AgoraRecord]]:
    """``(human, unreviewed, evaluation)``: training documents with human tags, training documents
    whose tags may be unreviewed machine output, and the evaluation-only documents."""
    human, unreviewed, evaluation = [], [], []
    for record in records:
        if record.agora_id in held_out:
            evaluation.append(record)
        elif record.annotated:
            human.append(record)
        else:
            unreviewed.append(record)
    return human, unreviewed, evaluation


def sector_labels(tags: Iterable[str]) -> frozenset[str]:
    """The codebook sectors of a document's AGORA tags (areas without a sector dropped)."""
    tags = set(tags)
    return frozenset(sector for area, sector in AGORA_TO_SECTOR.items()
                     if sector is not None and APPLICATION_PREFIX + area in tags)


def instrument_labels(tags: Iterable[str]) -> frozenset[str]:
    """The codebook instruments of a document's AGORA tags (a tag counts with its sub-tags).

    >>> sorted(instrument_labels({"Strategies: Evaluation: Impact assessment", "Incentives: Subsidies"}))
    ['audit_assessment', 'funding_incentives']
    """
    tags = set(tags)
    return frozenset(inst for inst, roots in AGORA_TO_INSTRUMENT.items()
                     if any(t == r or t.startswith(r + ": ") for t in tags for r in roots))


def family_labels(family: str, tags: Iterable[str]) -> frozenset[str]:
    """A document's labels in ``family`` (sector, instrument or agora)."""
    if family == "sector":
        return sector_labels(tags)
    if family == "instrument":
        return instrument_labels(tags)
    if family == "agora":
        return frozenset(tags)
    raise DataError(f"unknown facet family {family!r} (sector, instrument or agora)")


def matches_of(family: str, label: str) -> tuple[str, ...]:
    """The span-matcher facets (``"kind:name"``) that are evidence for a family's label."""
    if family in ("sector", "instrument"):
        return (f"{family}:{label}",)
    if family != "agora":
        raise DataError(f"unknown facet family {family!r} (sector, instrument or agora)")
    if label.startswith(APPLICATION_PREFIX):
        sector = AGORA_TO_SECTOR.get(label.removeprefix(APPLICATION_PREFIX))
        return (f"sector:{sector}",) if sector else ()
    return tuple(f"instrument:{inst}" for inst, roots in AGORA_TO_INSTRUMENT.items()
                 if any(label == r or label.startswith(r + ": ") for r in roots))


def label_counts(records: Iterable[AgoraRecord], family: str) -> Mapping[str, int]:
    """How many of ``records`` carry each label of ``family``."""
    counts: dict[str, int] = {}
    for record in records:
        for label in family_labels(family, record.tags):
            counts[label] = counts.get(label, 0) + 1
    return dict(sorted(counts.items()))
