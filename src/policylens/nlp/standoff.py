"""Stand-off labels: labels for sentences of documents that may not be copied.

Researchers often label sentences of documents they cannot redistribute (laws
under restrictive terms, news articles, a shared corpus). A stand-off file keeps
only the label and where the sentence is: the document's path, relative to a
documents folder, and the SHA-256 of the sentence text as policylens segments
it. The text itself is never stored. One JSON object per line::

    {"id": "r-00017", "source": "treaties/convention.txt",
     "sha256": "<64 hex digits>", "label": "centralized", "confidence": "high"}

``resolve`` re-reads the documents, segments them exactly as ``policylens tag``
does, and returns an ``Annotation`` for every label whose sentence it finds;
labels it cannot find (the document is missing, or changed, or segmentation
changed) are counted, never guessed. ``policylens train --standoff FILE
--documents DIR`` trains on them beside the written sentences; the held-out
rule is the same as for written sentences (by id hash).
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from policylens.errors import DataError, PolicylensError
from policylens.nlp.annotations import Annotation, read_jsonl

if TYPE_CHECKING:
    from spacy.language import Language

CONFIDENCES = ("high", "low")
_HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class StandoffLabel:
    """A label for one sentence of one document, without the sentence's text."""

    id: str
    source: str  # POSIX path relative to the documents folder
    sha256: str  # of the sentence text, as segmented by policylens
    label: str
    confidence: str | None = None


@dataclass(frozen=True)
class Resolved:
    """What ``resolve`` found: the labelled sentences, and what it could not find."""

    annotations: list[Annotation]
    missing_documents: dict[str, str]  # source -> reason
    unmatched: list[str]  # ids whose sentence is not in their (readable) document


def sentence_sha256(text: str) -> str:
    """The key of a sentence in a stand-off file: SHA-256 of its stripped UTF-8 text."""
    return hashlib.sha256(text.strip().encode("utf-8")).hexdigest()


def _check_source(source: Any, where: str) -> str:
    """A safe relative POSIX path: no absolute paths, no ``..``, no backslashes."""
    if not isinstance(source, str) or not source.strip():
        raise DataError(f"{where}: 'source' must be a non-empty relative path")
    path = PurePosixPath(source)
    if path.is_absolute() or "\\" in source or ".." in path.parts or source.startswith("~"):
        raise DataError(f"{where}: 'source' {source!r} must be a plain path inside the documents folder")
    return str(path)


def load_standoff(path: Path) -> list[StandoffLabel]:
    """Read and check a stand-off file; a bad line is a ``DataError`` naming it."""
    labels: list[StandoffLabel] = []
    seen: set[str] = set()
    for row in read_jsonl(path, required=("id", "source", "sha256", "label")):
        where = f"line {row['_line']}"
        sid = str(row["id"])
        if sid in seen:
            raise DataError(f"{where}: duplicate id {sid!r}", path=str(path))
        seen.add(sid)
        digest = row["sha256"]
        if not isinstance(digest, str) or not _HEX64.fullmatch(digest):
            raise DataError(f"{where}: 'sha256' must be 64 lower-case hex digits", path=str(path))
        confidence = row.get("confidence")
        if confidence is not None and confidence not in CONFIDENCES:
            raise DataError(f"{where}: confidence {confidence!r} is not one of {', '.join(CONFIDENCES)}",
                            path=str(path))
        try:
            source = _check_source(row["source"], where)
        except DataError as exc:
            raise DataError(str(exc), path=str(path)) from None
        labels.append(StandoffLabel(sid, source, digest, row["label"], confidence))
    return labels


def document_sentences(path: Path, nlp: Language) -> list[str]:
    """The sentence texts of a document, segmented as ``policylens tag`` segments it."""
    from policylens.extract import extract
    from policylens.nlp.pipeline import iter_sentence_texts, taggable_blocks

    return list(iter_sentence_texts(taggable_blocks(extract(path)), nlp=nlp))


def resolve(labels: Sequence[StandoffLabel], documents: Path, nlp: Language) -> Resolved:
    """Find the text of each label's sentence in ``documents`` (read in place, nothing copied)."""
    root = documents.resolve()
    if not root.is_dir():
        raise DataError(f"documents folder not found: {documents}")
    by_source: dict[str, list[StandoffLabel]] = defaultdict(list)
    for label in labels:
        by_source[label.source].append(label)
    found: list[Annotation] = []
    missing: dict[str, str] = {}
    unmatched: list[str] = []
    for source, group in sorted(by_source.items()):
        path = (root / source).resolve()
        if not path.is_relative_to(root):  # a symlink pointing out of the folder
            missing[source] = "outside the documents folder"
            continue
        if not path.is_file():
            missing[source] = "no such file"
            continue
        try:
            texts = {sentence_sha256(t): t for t in document_sentences(path, nlp)}
        except PolicylensError as exc:
            missing[source] = str(exc)
            continue
        for label in group:
            text = texts.get(label.sha256)
            if text is None:
                unmatched.append(label.id)
                continue
            extra: dict[str, Any] = {"source": source}
            if label.confidence:
                extra["confidence"] = label.confidence
            found.append(Annotation(id=label.id, text=text.strip(), label=label.label,
                                    genre="real", extra=extra))
    return Resolved(found, missing, unmatched)


def to_standoff(rows: Iterable[tuple[str, str, str, str, str | None]]) -> list[dict[str, Any]]:
    """Stand-off lines from ``(id, source, text, label, confidence)``: the text becomes its hash."""
    out = []
    for sid, source, text, label, confidence in rows:
        line: dict[str, Any] = {"id": sid, "source": _check_source(source, sid),
                                "sha256": sentence_sha256(text), "label": label}
        if confidence:
            line["confidence"] = confidence
        out.append(line)
    return out
