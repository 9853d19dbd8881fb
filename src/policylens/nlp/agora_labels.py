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

Some training documents carry human tags but no *Applications* tag at all: their
annotation of sectors looks unfinished. The project labelled their Applications by
hand (``corpora/annotations/agora/applications.jsonl``, stand-off, one line per
document); ``with_application_labels`` puts those labels where AGORA has none, never
over AGORA's own, never on a validated document, and ``read_application_labels``
refuses a label for an evaluation-only document.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
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
CONFIDENCE: Final = frozenset({"high", "low"})
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
    hand_applications: bool = False  # its Applications tags come from the project's hand labels


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


# --- hand labels of Applications ------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ApplicationLabel:
    """The project's reading of one document's AGORA Applications (column names, prefix included)."""

    agora_id: str
    applications: frozenset[str]  # e.g. "Applications: Transportation"; empty when none applies
    confidence: str  # "high" or "low"


def default_application_labels() -> Path:
    """``corpora/annotations/agora/applications.jsonl`` of the repository (editable installs)."""
    return Path(__file__).resolve().parents[3] / "corpora" / "annotations" / "agora" / "applications.jsonl"


def read_application_labels(path: str | Path, held_out: frozenset[str]) -> dict[str, ApplicationLabel]:
    """The hand labels in ``path`` by AGORA id; a ``DataError`` for a malformed line, an unknown
    Applications name, a document labelled twice, or any label of an evaluation-only document."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise DataError(f"cannot read the Applications labels: {exc}", path=str(path)) from None
    known = {APPLICATION_PREFIX + area for area in AGORA_TO_SECTOR}
    labels: dict[str, ApplicationLabel] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            record = json.loads(line)
            source, names, confidence = record["source"], record["applications"], record["confidence"]
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise DataError(f"not an Applications label ({exc}): needs source, applications, confidence",
                            path=where) from None
        if not (isinstance(source, str) and source.startswith("agora/fulltext/") and source.endswith(".txt")):
            raise DataError(f"source {source!r} is not an AGORA full text (agora/fulltext/<id>.txt)",
                            path=where)
        agora_id = source.removeprefix("agora/fulltext/").removesuffix(".txt")
        if agora_id in held_out:
            raise DataError(f"{source} is an evaluation-only document: its Applications may not be labelled "
                            "for training", path=where)
        tags = {APPLICATION_PREFIX + str(name) for name in names} if isinstance(names, list) else None
        if tags is None or not tags <= known:
            unknown = sorted((tags or set()) - known) or names
            raise DataError(f"unknown AGORA Applications {unknown!r}; use the names of the "
                            "'Applications: ...' columns", path=where)
        if confidence not in CONFIDENCE:
            raise DataError(f"confidence {confidence!r} is not high or low", path=where)
        if agora_id in labels:
            raise DataError(f"{source} is labelled twice", path=where)
        labels[agora_id] = ApplicationLabel(agora_id, frozenset(tags), confidence)
    return labels


def lacks_applications(record: AgoraRecord) -> bool:
    """True when none of the record's tags is an *Applications* tag."""
    return not any(tag.startswith(APPLICATION_PREFIX) for tag in record.tags)


def with_application_labels(records: Sequence[AgoraRecord], labels: Mapping[str, ApplicationLabel]
                            ) -> tuple[list[AgoraRecord], int]:
    """``records`` with the hand labels in place of the missing Applications, and how many were used.

    A label counts only for an unvalidated record without any Applications tag: AGORA's own
    Applications, and a validated document's answer (even an empty one), are kept.
    """
    out, used = [], 0
    for record in records:
        label = labels.get(record.agora_id)
        if label is not None and not record.validated and lacks_applications(record):
            record = replace(record, tags=record.tags | label.applications, hand_applications=True)
            used += 1
        out.append(record)
    return out, used


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
