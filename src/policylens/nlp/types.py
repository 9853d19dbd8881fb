"""The tagging stage's output: one ``TaggedSentence`` per sentence of a document."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from policylens.labels import LABELS, Approach, Label


@dataclass(frozen=True, slots=True)
class Cue:
    """A governance cue found in a sentence: evidence for one approach.

    ``negated`` is true when the cue sits inside a negation or the rejected side
    of a contrast ("rather than a new regulator"), so it counts for the *other*
    approach. ``start``/``end`` are character offsets in the sentence text.
    """

    text: str
    approach: Approach
    negated: bool = False
    start: int = 0
    end: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "approach": self.approach, "negated": self.negated}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Cue:
        return cls(
            text=data["text"],
            approach=data["approach"],
            negated=bool(data.get("negated", False)),
            start=int(data.get("start", 0)),
            end=int(data.get("end", 0)),
        )


@dataclass(frozen=True, slots=True)
class Facets:
    """The codebook's facets found in a sentence (names from ``policylens.labels``)."""

    sector: tuple[str, ...] = ()
    level: tuple[str, ...] = ()
    instrument: tuple[str, ...] = ()
    style: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, list[str]]:
        return {
            "sector": list(self.sector),
            "level": list(self.level),
            "instrument": list(self.instrument),
            "style": list(self.style),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Facets:
        return cls(**{k: tuple(data.get(k, ())) for k in ("sector", "level", "instrument", "style")})


@dataclass(frozen=True, slots=True)
class TaggedSentence:
    """One sentence with its approach label, probabilities, cues and facets."""

    doc: str  # the document's source
    sentence_id: int  # 0-based position in the document
    text: str
    label: Label
    probs: Mapping[str, float]  # one entry per label in LABELS, summing to 1
    cues: tuple[Cue, ...] = ()
    facets: Facets = field(default_factory=Facets)
    page: int | None = None
    section: str | None = None

    @property
    def lean(self) -> float:
        """P(centralized) - P(sector_specific): this sentence's push on the index."""
        return float(self.probs["centralized"]) - float(self.probs["sector_specific"])

    def to_dict(self) -> dict[str, Any]:
        return {
            "doc": self.doc,
            "sentence_id": self.sentence_id,
            "text": self.text,
            "label": self.label,
            "probs": {label: round(float(self.probs[label]), 4) for label in LABELS},
            "cues": [cue.to_dict() for cue in self.cues],
            "facets": self.facets.to_dict(),
            "page": self.page,
            "section": self.section,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TaggedSentence:
        return cls(
            doc=data["doc"],
            sentence_id=int(data["sentence_id"]),
            text=data["text"],
            label=data["label"],
            probs={label: float(data["probs"][label]) for label in LABELS},
            cues=tuple(Cue.from_dict(c) for c in data.get("cues", ())),
            facets=Facets.from_dict(data.get("facets", {})),
            page=data.get("page"),
            section=data.get("section"),
        )


@dataclass(frozen=True, slots=True)
class TaggedDocument:
    """A document's sentences after tagging, with the model that tagged them."""

    source: str
    title: str
    sha256: str
    n_pages: int
    sentences: tuple[TaggedSentence, ...]
    model_version: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "title": self.title,
            "sha256": self.sha256,
            "n_pages": self.n_pages,
            "model_version": self.model_version,
            "sentences": [s.to_dict() for s in self.sentences],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TaggedDocument:
        return cls(
            source=data["source"],
            title=data.get("title", ""),
            sha256=data.get("sha256", ""),
            n_pages=int(data.get("n_pages", 0)),
            sentences=tuple(TaggedSentence.from_dict(s) for s in data.get("sentences", ())),
            model_version=data.get("model_version", ""),
        )
