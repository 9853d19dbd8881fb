"""Scoring the tagger on labelled sentences (``policylens evaluate``) and comparing
two annotators (``policylens agree``).

Input files are JSONL with at least ``text`` and ``label`` per line; other
fields are kept and can be used to break the metrics down (``by="genre"``).
Each line is classified as one sentence. With ``documents=DIR`` the file holds
stand-off labels instead (``id``, ``source``, ``sha256``, ``label``; see
``policylens.nlp.standoff``): the sentences are read from the documents in place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spacy.language import Language

from policylens.errors import DataError
from policylens.labels import LABELS
from policylens.nlp.annotations import read_jsonl
from policylens.nlp.metrics import agreement, classification_report


@dataclass(frozen=True)
class Evaluation:
    """Metrics over a labelled file, the rows with predictions, and optional breakdowns."""

    report: dict[str, Any]
    rows: list[dict[str, Any]]  # input rows plus "pred" and "probs"
    by: dict[str, dict[str, Any]] | None = None
    not_found: dict[str, Any] | None = None  # stand-off labels whose sentence was not found

    def to_dict(self) -> dict[str, Any]:
        out = {k: self.report[k] for k in ("macro_f1", "accuracy", "n", "per_class", "confusion")}
        if self.by is not None:
            out["by"] = self.by
        if self.not_found is not None:
            out["not_found"] = self.not_found
        return out


def classify_texts(texts: Sequence[str], *, nlp: Language | None = None) -> list[dict[str, float]]:
    """Probabilities for each text, each taken as a single sentence."""
    from policylens.nlp.governance import sentence_probs
    from policylens.nlp.pipeline import load_pipeline
    from policylens.nlp.segment import HEADING_FLAG

    nlp = nlp or load_pipeline()
    docs = []
    for text in texts:
        doc = nlp.make_doc(text)
        doc.user_data[HEADING_FLAG] = True  # the whole line is one sentence
        docs.append(doc)
    out: list[dict[str, float]] = []
    for doc in nlp.pipe(docs, batch_size=256):
        triples = sentence_probs(doc)
        out.append(triples[0][2] if triples else {"centralized": 0.0, "sector_specific": 0.0, "neutral": 1.0})
    return out


def _standoff_rows(path: Path, documents: Path, nlp: Language) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Stand-off labels resolved against ``documents``: rows with ``text``, and what was not found."""
    from policylens.nlp.standoff import load_standoff, resolve

    found = resolve(load_standoff(path), documents, nlp)
    rows = [{"id": a.id, "text": a.text, "label": a.label, **a.extra} for a in found.annotations]
    return rows, {"documents": found.missing_documents, "sentences": found.unmatched}


def evaluate(path: Path, *, nlp: Language | None = None, by: str | None = None,
             documents: Path | None = None) -> Evaluation:
    """Classify every line of ``path`` and compare with its ``label``.

    ``documents``: ``path`` holds stand-off labels for sentences of the documents in this folder.
    """
    from policylens.nlp.pipeline import load_pipeline

    nlp = nlp or load_pipeline()
    not_found = None
    if documents is not None:
        rows, not_found = _standoff_rows(path, documents, nlp)
    else:
        rows = read_jsonl(path)
    if not rows:
        where = " found in the documents" if documents else ""
        raise DataError(f"no labelled lines{where}", path=str(path))
    if by is not None and not any(by in row for row in rows):
        raise DataError(f"no line has a field {by!r}", path=str(path))
    probs = classify_texts([row["text"] for row in rows], nlp=nlp)
    scored: list[dict[str, Any]] = []
    for row, p in zip(rows, probs, strict=True):
        clean = {k: v for k, v in row.items() if k != "_line"}
        clean["pred"] = max(LABELS, key=lambda label: p[label])
        clean["probs"] = {label: round(p[label], 4) for label in LABELS}
        scored.append(clean)
    report = classification_report([r["label"] for r in scored], [r["pred"] for r in scored])
    breakdown = None
    if by is not None:
        groups: dict[str, list[dict[str, Any]]] = {}
        for row in scored:
            value = row.get(by)
            key = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
            groups.setdefault(key, []).append(row)
        breakdown = {key: classification_report([r["label"] for r in group], [r["pred"] for r in group])
                     for key, group in sorted(groups.items())}
    return Evaluation(report=report, rows=scored, by=breakdown, not_found=not_found)


def agree(path_a: Path, path_b: Path) -> dict[str, Any]:
    """Agreement of two label files on the same sentences (matched by ``id``, else by text)."""
    rows_a, rows_b = read_jsonl(path_a, required=("label",)), read_jsonl(path_b, required=("label",))
    use_id = all("id" in r for r in rows_a) and all("id" in r for r in rows_b)
    if not use_id:
        for path, rows in ((path_a, rows_a), (path_b, rows_b)):
            for row in rows:
                if not isinstance(row.get("text"), str):
                    raise DataError(f"line {row['_line']}: without ids on every line, each line needs "
                                    "a 'text'", path=str(path))

    def key(row: dict[str, Any]) -> str:
        return str(row["id"]) if use_id else " ".join(row["text"].split())

    index_b = {key(r): r for r in rows_b}
    pairs = [(a, index_b[key(a)]) for a in rows_a if key(a) in index_b]
    if not pairs:
        raise DataError(f"{path_a.name} and {path_b.name} share no sentences "
                        f"(matched by {'id' if use_id else 'text'})")
    result = agreement([a["label"] for a, _ in pairs], [b["label"] for _, b in pairs])
    result["matched_by"] = "id" if use_id else "text"
    result["unmatched"] = {"a": len(rows_a) - len(pairs), "b": len(rows_b) - len(pairs)}
    result["disagreements"] = [
        {"id": a.get("id"), "text": a.get("text", ""), "a": a["label"], "b": b["label"]}
        for a, b in pairs if a["label"] != b["label"]
    ]
    return result
