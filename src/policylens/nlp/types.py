"""The tagging stage's output: one ``TaggedSentence`` per sentence of a document."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from policylens.labels import LABELS, ROLES, SCOPES, Approach, Label, Role, Scope


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


def _rounded(probs: Mapping[str, float], names: tuple[str, ...]) -> dict[str, float]:
    return {name: round(float(probs[name]), 4) for name in names}


@dataclass(frozen=True, slots=True)
class ScopeDecision:
    """A document's instrument scope: probabilities, and whether a user set it.

    ``evidence`` holds the ``sentence_id`` of the sentences that pushed hardest for
    the chosen scope (empty when the scope was overridden).
    """

    label: Scope
    probs: Mapping[str, float]
    overridden: bool = False
    evidence: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "probs": _rounded(self.probs, SCOPES),
                "overridden": self.overridden, "evidence": list(self.evidence)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScopeDecision:
        return cls(label=data["label"], probs={s: float(data["probs"][s]) for s in SCOPES},
                   overridden=bool(data.get("overridden", False)),
                   evidence=tuple(int(i) for i in data.get("evidence", ())))


#: The scope of a document tagged without a scope model (content alone decides provisions).
UNKNOWN_SCOPE = ScopeDecision(label="none", probs={"horizontal": 0.0, "targeted": 0.0, "none": 1.0})


@dataclass(frozen=True, slots=True)
class TaggedSentence:
    """One sentence with its approach label, probabilities, role, cues and facets.

    ``probs`` is the codebook procedure's outcome; ``content`` the content model's own
    approach probabilities and ``role_probs`` the role model's, from which ``probs`` was
    composed with the document's scope (``procedure.compose``), so a new scope re-labels
    a sentence without re-reading it.
    """

    doc: str  # the document's source
    sentence_id: int  # 0-based position in the document
    text: str
    label: Label
    probs: Mapping[str, float]  # one entry per label in LABELS, summing to 1
    cues: tuple[Cue, ...] = ()
    facets: Facets = field(default_factory=Facets)
    page: int | None = None
    section: str | None = None
    role: Role = "other"
    role_probs: Mapping[str, float] = field(default_factory=lambda: {"architecture": 0.0, "provision": 0.0,
                                                                      "other": 1.0})
    content: Mapping[str, float] | None = None  # None: same as probs (a v1 model, no composition)

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
            "probs": _rounded(self.probs, LABELS),
            "role": self.role,
            "role_probs": _rounded(self.role_probs, ROLES),
            "content": _rounded(self.content if self.content is not None else self.probs, LABELS),
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
            role=data.get("role", "other"),
            role_probs={r: float(data["role_probs"][r]) for r in ROLES} if "role_probs" in data
            else {"architecture": 0.0, "provision": 0.0, "other": 1.0},
            content={label: float(data["content"][label]) for label in LABELS} if "content" in data else None,
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
    scope: ScopeDecision = UNKNOWN_SCOPE

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "title": self.title,
            "sha256": self.sha256,
            "n_pages": self.n_pages,
            "model_version": self.model_version,
            "scope": self.scope.to_dict(),
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
            scope=ScopeDecision.from_dict(data["scope"]) if "scope" in data else UNKNOWN_SCOPE,
        )
