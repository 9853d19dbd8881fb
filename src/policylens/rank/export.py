"""Rankings as CSV rows and JSON (the CLI's ``--format csv|json``)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from policylens.labels import FACET_KINDS, LABELS
from policylens.nlp.document_facets import FAMILIES
from policylens.rank.types import FrameworkScore

CSV_FIELDS: tuple[str, ...] = (
    "rank", "doc", "title", "scope", "scope_p", "scope_overridden",
    "index", "ci_low", "ci_high", "n_sentences",
    *(f"n_{label}" for label in LABELS),
    *(f"{kind}_top" for kind in FACET_KINDS),
    "top_centralized", "top_sector_specific", "method",
    *(f"document_{family}" for family in FAMILIES),
)


def to_json(scores: Sequence[FrameworkScore]) -> str:
    """A JSON array of ``FrameworkScore.to_dict()`` objects."""
    return json.dumps([s.to_dict() for s in scores], indent=2, ensure_ascii=False)


def csv_row(score: FrameworkScore) -> dict[str, Any]:
    """One flat row: counts as columns, each facet kind as ``name:n;name:n``, the strongest evidence,
    each document facet family's assigned values as ``name:probability;...`` (empty when not decided)."""
    row: dict[str, Any] = {
        "rank": score.rank, "doc": score.doc, "title": score.title, "index": round(score.index, 4),
        "ci_low": round(score.ci_low, 4), "ci_high": round(score.ci_high, 4),
        "n_sentences": score.n_sentences, "method": score.method,
        "scope": score.scope.label, "scope_p": round(float(score.scope.probs[score.scope.label]), 4),
        "scope_overridden": score.scope.overridden,
    }
    for label in LABELS:
        row[f"n_{label}"] = int(score.counts.get(label, 0))
    for kind in FACET_KINDS:
        names = sorted(score.facets.get(kind, {}).items(), key=lambda kv: (-kv[1], kv[0]))
        row[f"{kind}_top"] = ";".join(f"{name}:{n}" for name, n in names)
    pushes = [e for e in score.evidence if e.weight > 0]
    pulls = [e for e in score.evidence if e.weight < 0]
    row["top_centralized"] = pushes[0].text if pushes else ""
    row["top_sector_specific"] = pulls[0].text if pulls else ""
    for family in FAMILIES:
        found = score.document_facets.get(family)
        row[f"document_{family}"] = (";".join(f"{name}:{found.probs[name]:.2f}" for name in found.labels)
                                     if found is not None else "")
    return row


def to_csv(scores: Sequence[FrameworkScore]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for s in scores:
        writer.writerow(csv_row(s))
    return buffer.getvalue()
