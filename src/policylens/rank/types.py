"""The ranking stage's output: a ``FrameworkScore`` per document."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from policylens.labels import Label
from policylens.nlp.document_facets import FamilyFacets, facets_from_dict, facets_to_dict
from policylens.nlp.types import UNKNOWN_SCOPE, ScopeDecision


@dataclass(frozen=True, slots=True)
class Evidence:
    """A sentence that pushes a framework's index; ``weight`` is signed (+ centralizing)."""

    text: str
    label: Label
    page: int | None
    weight: float

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "label": self.label, "page": self.page,
                "weight": round(self.weight, 4)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Evidence:
        return cls(text=data["text"], label=data["label"], page=data.get("page"),
                   weight=float(data["weight"]))


@dataclass(frozen=True, slots=True)
class FrameworkScore:
    """Where one framework sits between sector-specific (-1) and centralized (+1)."""

    doc: str
    title: str
    index: float
    ci_low: float
    ci_high: float
    n_sentences: int
    counts: Mapping[str, int]  # per label
    facets: Mapping[str, Mapping[str, int]]  # kind -> name -> number of sentences
    evidence: tuple[Evidence, ...] = ()
    method: str = "aggregate"
    model_version: str = ""
    rank: int | None = None  # set when ranked among others (1 = most centralized)
    extra: Mapping[str, Any] = field(default_factory=dict)
    scope: ScopeDecision = UNKNOWN_SCOPE  # the document's instrument scope (codebook section 1)
    # family (sector, instrument, agora) -> the document-level decision; empty when not computed
    document_facets: Mapping[str, FamilyFacets] = field(default_factory=dict)

    def with_rank(self, rank: int) -> FrameworkScore:
        return replace(self, rank=rank)

    def to_dict(self) -> dict[str, Any]:
        return {
            "doc": self.doc,
            "title": self.title,
            "rank": self.rank,
            "index": round(self.index, 4),
            "ci_low": round(self.ci_low, 4),
            "ci_high": round(self.ci_high, 4),
            "n_sentences": self.n_sentences,
            "counts": dict(self.counts),
            "facets": {kind: dict(names) for kind, names in self.facets.items()},
            "evidence": [e.to_dict() for e in self.evidence],
            "method": self.method,
            "model_version": self.model_version,
            "scope": self.scope.to_dict(),
            "document_facets": facets_to_dict(self.document_facets),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FrameworkScore:
        return cls(
            doc=data["doc"],
            title=data.get("title", ""),
            index=float(data["index"]),
            ci_low=float(data["ci_low"]),
            ci_high=float(data["ci_high"]),
            n_sentences=int(data["n_sentences"]),
            counts=dict(data["counts"]),
            facets={k: dict(v) for k, v in data.get("facets", {}).items()},
            evidence=tuple(Evidence.from_dict(e) for e in data.get("evidence", ())),
            method=data.get("method", "aggregate"),
            model_version=data.get("model_version", ""),
            rank=data.get("rank"),
            scope=ScopeDecision.from_dict(data["scope"]) if "scope" in data else UNKNOWN_SCOPE,
            document_facets=facets_from_dict(data.get("document_facets")),
        )
