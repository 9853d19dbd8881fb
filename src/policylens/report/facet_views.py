"""The document facets as the report shows them: chips in the table, the filter, a block per document.

Each table row carries ``data-facets``, a JSON list of its ``"family:value"``
keys; the page script shows the rows that have every value chosen in the
filter. A document's section lists its values with probability, mention count
and evidence sentences, from the inline JSON (``payload``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from policylens.nlp.document_facets import FAMILIES
from policylens.rank.types import FrameworkScore

FAMILY_NAMES = {"sector": "Sector", "instrument": "Instrument", "agora": "AGORA tag"}
#: The report shows the strongest evidence sentence of each facet value, cut to this many
#: characters (JSON, CSV, Parquet and the store keep up to three, whole): 1,000 documents
#: with three whole sentences per value would add about 2 MB to the page.
EVIDENCE_PER_VALUE = 1
EVIDENCE_CHARS = 240


@dataclass(frozen=True, slots=True)
class Chip:
    """One assigned value in the ranking table."""

    family: str
    name: str  # shown
    prob: float


@dataclass(frozen=True, slots=True)
class FacetFilter:
    """One ``<select>``: a family and its values assigned in at least one document (with how many)."""

    family: str
    title: str
    options: tuple[tuple[str, str, int], ...]  # (key, shown name, documents)


def key(family: str, value: str) -> str:
    return f"{family}:{value}"


def display(value: str) -> str:
    return value.replace("_", " ")


def ordered_families(families: Mapping[str, object] | Sequence[str]) -> list[str]:
    """Families in their canonical order (sector, instrument, agora), unknown ones after."""
    names = list(families)
    return [f for f in FAMILIES if f in names] + sorted(set(names) - set(FAMILIES))


def chips(score: FrameworkScore) -> tuple[Chip, ...]:
    """The table's chips: every assigned sector and instrument (AGORA's tags are in the section)."""
    out = []
    for family in ordered_families(score.document_facets):
        if family == "agora":
            continue
        found = score.document_facets[family]
        out += [Chip(family, display(label), float(found.probs.get(label, 0.0))) for label in found.labels]
    return tuple(out)


def data_facets(score: FrameworkScore) -> str:
    """The ``data-facets`` attribute value: a JSON list of the document's assigned keys."""
    return json.dumps([key(family, label) for family, found in score.document_facets.items()
                       for label in found.labels], ensure_ascii=False)


def facet_filters(scores: Sequence[FrameworkScore]) -> tuple[FacetFilter, ...]:
    """One filter per family any document has values of; values by how many documents have them."""
    counts: dict[str, dict[str, int]] = {}
    for score in scores:
        for family, found in score.document_facets.items():
            per = counts.setdefault(family, {})
            for label in found.labels:
                per[label] = per.get(label, 0) + 1
    filters = []
    for family in ordered_families(counts):
        if not counts[family]:
            continue
        ranked = sorted(counts[family].items(), key=lambda kv: (-kv[1], kv[0]))
        filters.append(FacetFilter(family, FAMILY_NAMES.get(family, family),
                                   tuple((key(family, label), display(label), n) for label, n in ranked)))
    return tuple(filters)


def facets_payload(score: FrameworkScore) -> list[dict[str, Any]]:
    """A document's facets for its section (``df`` in the report's JSON): per family its title and
    values, each ``{"n": name, "p": probability, "m": mentions, "e": [[text, page, matched], ...]}``."""
    out = []
    for family in ordered_families(score.document_facets):
        found = score.document_facets[family]
        values = [{"n": display(label), "p": round(float(found.probs.get(label, 0.0)), 2),
                   "m": int(found.mentions.get(label, 0)),
                   "e": [[_cut(e.text), e.page, e.matched]
                         for e in found.evidence.get(label, ())[:EVIDENCE_PER_VALUE]]}
                  for label in found.labels]
        out.append({"f": family, "t": FAMILY_NAMES.get(family, family), "v": values})
    return out


def _cut(text: str) -> str:
    return text if len(text) <= EVIDENCE_CHARS else text[: EVIDENCE_CHARS - 1].rstrip() + "…"
