"""The per-file work of ``policylens rank``: extract, tag and score one document.

``analyze`` is a top-level function so that engines can send it to worker
processes; each worker loads the tagging pipeline once (it is cached). The
corpus stage runs the same path for every document of a refresh, naming each
document by its manifest (``title=``, ``source=``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from policylens.extract.document import Document
from policylens.nlp.types import TaggedDocument
from policylens.rank.scoring import score
from policylens.rank.types import FrameworkScore


@dataclass(frozen=True, slots=True)
class Analysis:
    """Everything the ranking stage knows about one document."""

    document: Document
    tagged: TaggedDocument
    score: FrameworkScore

    def to_dict(self) -> dict[str, Any]:
        return {"document": self.document.to_dict(), "tagged": self.tagged.to_dict(),
                "score": self.score.to_dict()}


def analyze(path: str | Path, *, password: str | None = None, method: str | None = None,
            title: str | None = None, source: str | None = None, scope: str | None = None,
            facets: str | Sequence[str] | None = None, role_model: str = "linear") -> Analysis:
    """Extract, tag and score the document at ``path``, and decide its document facets.

    ``title`` replaces the title extraction guessed (which is kept in the
    metadata as ``extracted_title``) and ``source`` the path recorded as the
    document's source: a corpus knows both better than the file does. ``scope``
    overrides the scope model (``horizontal``/``targeted``/``none``). ``facets``:
    the document facet families (default ``"codebook"``: sector and instrument;
    ``"agora"`` adds AGORA's taxonomy; ``"none"`` skips them). ``role_model="encoder"`` tags with
    the encoder role mode (``policylens.nlp.role_encoder``).
    """
    from policylens.extract import extract

    document = extract(Path(path), password=password)
    return analyze_document(_named(document, title=title, source=source), method=method, scope=scope,
                            facets=facets, role_model=role_model)


def analyze_document(document: Document, *, method: str | None = None, scope: str | None = None,
                     facets: str | Sequence[str] | None = None, role_model: str = "linear") -> Analysis:
    """Tag and score a document that is already extracted (a re-tag after the model changed)."""
    from policylens.nlp import load_pipeline, tag
    from policylens.nlp.document_facets import document_facets

    tagged = tag(document, scope=scope, nlp=load_pipeline(role_model=role_model))
    scored = score(tagged, method=method)
    found = document_facets(tagged, families=facets)
    return Analysis(document=document, tagged=tagged,
                    score=replace(scored, document_facets=found) if found else scored)


@dataclass(frozen=True, slots=True)
class Scored:
    """What a worker sends back for one document of a ranking: its score, and its tagged
    sentences only when a report needs them (never the extracted document, which nothing
    after scoring reads)."""

    score: FrameworkScore
    tagged: TaggedDocument | None = None


def score_file(path: str | Path, *, keep_sentences: bool = False, password: str | None = None,
               method: str | None = None, scope: str | None = None,
               facets: str | Sequence[str] | None = None, role_model: str = "linear") -> Scored:
    """``analyze`` for a ranking: the score (and the sentences, with ``keep_sentences``) alone.

    A worker's result is pickled back to the parent, which holds every result until the
    ranking is built: the document and, usually, the sentences would be most of both costs.
    """
    result = analyze(path, password=password, method=method, scope=scope, facets=facets,
                     role_model=role_model)
    return Scored(result.score, result.tagged if keep_sentences else None)


def warm(role_model: str = "linear") -> None:
    """Load the tagging pipeline and the codebook's facet models (cached) before any document: engines
    call it in their workers."""
    from policylens.nlp import load_pipeline
    from policylens.nlp.document_facets import CODEBOOK_FAMILIES
    from policylens.nlp.facet_model import load_family

    load_pipeline(role_model=role_model)
    for family in CODEBOOK_FAMILIES:
        load_family(family)


def _named(document: Document, *, title: str | None, source: str | None) -> Document:
    changes: dict[str, Any] = {}
    if source is not None:
        changes["source"] = source
    if title:
        if document.title and document.title != title:
            changes["metadata"] = {**document.metadata, "extracted_title": document.title}
        changes["title"] = title
    return replace(document, **changes) if changes else document
