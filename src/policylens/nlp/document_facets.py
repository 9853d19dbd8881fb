"""Document facets: which sectors a document governs, with which instruments, decided per document.

The span matchers (``policylens_facets``) find where a sentence *mentions* a
sector or an instrument; whether the *document* governs it is decided here, by
classifiers trained on AGORA's human tags (``facet_model``, ``train_facets``).
The matchers still supply the evidence: for each assigned value, the sentences
that mention it (or, for a value no matcher covers, the sentences whose words
push it most).

Families: ``sector`` (the codebook's sectors AGORA also tags), ``instrument``
(the codebook's instruments AGORA also tags) and, on request, ``agora``
(AGORA's own taxonomy). ``resolve_families`` reads the ``--facets`` option.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from policylens.errors import ModelError, UsageError
from policylens.nlp.types import TaggedDocument, TaggedSentence

if TYPE_CHECKING:  # pragma: no cover
    from policylens.nlp.facet_features import DocumentFeatures
    from policylens.nlp.facet_model import FamilyModel

FAMILIES: Final[tuple[str, ...]] = ("sector", "instrument", "agora")
CODEBOOK_FAMILIES: Final[tuple[str, ...]] = ("sector", "instrument")
#: The values of ``--facets``: the codebook's families, those plus AGORA's taxonomy, or none.
PRESETS: Final[dict[str, tuple[str, ...]]] = {"codebook": CODEBOOK_FAMILIES, "agora": FAMILIES, "none": ()}
MAX_EVIDENCE: Final = 3


@dataclass(frozen=True, slots=True)
class FacetEvidence:
    """A sentence behind an assigned facet value.

    ``matched``: a span matcher found the value in it; otherwise it is one of the
    sentences whose words push the value most (values no matcher covers).
    """

    sentence_id: int
    text: str
    page: int | None = None
    matched: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {"sentence_id": self.sentence_id, "text": self.text, "page": self.page,
                "matched": self.matched}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FacetEvidence:
        return cls(sentence_id=int(data["sentence_id"]), text=str(data["text"]), page=data.get("page"),
                   matched=bool(data.get("matched", True)))


@dataclass(frozen=True, slots=True)
class FamilyFacets:
    """One family's decision for one document.

    ``labels``: the assigned values, most probable first. ``probs``: every value's
    calibrated probability. ``evidence``: up to ``MAX_EVIDENCE`` sentences per
    assigned value. ``mentions``: in how many sentences the span matchers found
    each value (values found in none are left out).
    """

    labels: tuple[str, ...]
    probs: Mapping[str, float]
    evidence: Mapping[str, tuple[FacetEvidence, ...]]
    mentions: Mapping[str, int]
    model_version: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "labels": list(self.labels),
            "probs": {name: round(float(p), 4) for name, p in self.probs.items()},
            "evidence": {name: [e.to_dict() for e in items] for name, items in self.evidence.items()},
            "mentions": dict(self.mentions),
            "model_version": self.model_version,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FamilyFacets:
        return cls(
            labels=tuple(data.get("labels", ())),
            probs={str(k): float(v) for k, v in data.get("probs", {}).items()},
            evidence={str(k): tuple(FacetEvidence.from_dict(e) for e in v)
                      for k, v in data.get("evidence", {}).items()},
            mentions={str(k): int(v) for k, v in data.get("mentions", {}).items()},
            model_version=str(data.get("model_version", "")),
        )


def facets_to_dict(facets: Mapping[str, FamilyFacets]) -> dict[str, Any]:
    return {family: result.to_dict() for family, result in facets.items()}


def facets_from_dict(data: Mapping[str, Any] | None) -> dict[str, FamilyFacets]:
    return {str(family): FamilyFacets.from_dict(result) for family, result in (data or {}).items()}


def resolve_families(value: str | Sequence[str] | None) -> tuple[str, ...]:
    """The families to compute: ``None`` -> the codebook's; a preset (``codebook``, ``agora``,
    ``none``) or a comma-separated list of families.

    >>> resolve_families("agora")
    ('sector', 'instrument', 'agora')
    >>> resolve_families("instrument,sector")
    ('sector', 'instrument')
    """
    if value is None:
        return CODEBOOK_FAMILIES
    if isinstance(value, str):
        if value.strip() in PRESETS:
            return PRESETS[value.strip()]
        value = [v.strip() for v in value.split(",") if v.strip()]
    unknown = [v for v in value if v not in FAMILIES]
    if unknown:
        raise UsageError(f"unknown facet family {', '.join(map(repr, unknown))}: use "
                         f"{', '.join(PRESETS)} or a comma-separated list of {', '.join(FAMILIES)}")
    return tuple(f for f in FAMILIES if f in value)


def document_facets(document: TaggedDocument | Sequence[TaggedSentence], *,
                    families: str | Sequence[str] | None = None,
                    directory: str | Path | None = None) -> dict[str, FamilyFacets]:
    """Decide a tagged document's facets, family by family (default: sector and instrument).

    ``directory``: a facet model folder (default: the bundled ``models/facets``).
    """
    from policylens.nlp.facet_features import document_features
    from policylens.nlp.facet_model import load_family

    names = resolve_families(families)
    if not names:
        return {}
    sentences = document.sentences if isinstance(document, TaggedDocument) else tuple(document)
    models = [load_family(name, directory) for name in names]
    vocabulary = models[0].vocabulary
    if any(m.vocabulary.version != vocabulary.version for m in models):
        raise ModelError("the facet models were trained on different vocabularies: retrain them together")
    features = document_features(sentences, vocabulary)
    return {name: predict_family(model, features, sentences)
            for name, model in zip(names, models, strict=True)}


def predict_family(model: FamilyModel, features: DocumentFeatures,
                   sentences: Sequence[TaggedSentence]) -> FamilyFacets:
    """One family's labels, probabilities, mention counts and evidence for one document."""
    probs = model.probabilities(features)
    assigned = sorted((i for i, m in enumerate(model.labels) if probs[m.name] >= m.threshold),
                      key=lambda i: (-probs[model.labels[i].name], i))
    counts = features.mention_counts()
    mentions = {}
    for m in model.labels:
        n = _mentioned(features, m.matches, counts)
        if n:
            mentions[m.name] = n
    evidence = _evidence(model, features, sentences, assigned) if assigned else {}
    return FamilyFacets(labels=tuple(model.labels[i].name for i in assigned), probs=probs, evidence=evidence,
                        mentions=mentions, model_version=model.version)


def _mentioned(features: DocumentFeatures, matches: Iterable[str], counts: Mapping[str, int]) -> int:
    wanted = set(matches)
    if len(wanted) <= 1:
        return sum(counts.get(m, 0) for m in wanted)
    return sum(1 for found in features.mentions if found & wanted)


def _evidence(model: FamilyModel, features: DocumentFeatures, sentences: Sequence[TaggedSentence],
              assigned: list[int]) -> dict[str, tuple[FacetEvidence, ...]]:
    scores = model.sentence_scores(features, assigned)
    out = {}
    for k, i in enumerate(assigned):
        label = model.labels[i]
        wanted = set(label.matches)
        column = scores[:, k]
        matched = [j for j, found in enumerate(features.mentions) if found & wanted]
        pool = matched or [j for j in range(len(sentences)) if column[j] > 0]
        best = sorted(pool, key=lambda j: (-column[j], j))[:MAX_EVIDENCE]
        out[label.name] = tuple(FacetEvidence(sentences[j].sentence_id, sentences[j].text, sentences[j].page,
                                              matched=bool(matched)) for j in best)
    return out
