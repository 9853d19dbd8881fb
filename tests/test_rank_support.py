"""Builders for the rank tests: tagged documents made from explicit probabilities.

(No tests here; the module is shared by the ``test_rank_*`` files.)
"""

from __future__ import annotations

from collections.abc import Sequence

from policylens.labels import LABELS
from policylens.nlp.types import Facets, TaggedDocument, TaggedSentence


def sentence(i: int, text: str, pc: float, ps: float, *, page: int | None = 1, doc: str = "doc",
             facets: Facets | None = None) -> TaggedSentence:
    """A tagged sentence with P(centralized)=pc, P(sector_specific)=ps, the rest neutral."""
    probs = {"centralized": pc, "sector_specific": ps, "neutral": round(1.0 - pc - ps, 10)}
    label = max(LABELS, key=lambda k: probs[k])
    return TaggedSentence(doc=doc, sentence_id=i, text=text, label=label, probs=probs,
                          facets=facets or Facets(), page=page)


def document(rows: Sequence[tuple[str, float, float]], *, source: str = "doc", title: str = "A framework",
             pages: Sequence[int | None] | None = None) -> TaggedDocument:
    """A tagged document from ``(text, pc, ps)`` rows."""
    sentences = tuple(
        sentence(i, text, pc, ps, page=(pages[i] if pages else 1 + i // 10), doc=source)
        for i, (text, pc, ps) in enumerate(rows))
    return TaggedDocument(source=source, title=title, sha256="0" * 64, n_pages=1 + len(rows) // 10,
                          sentences=sentences, model_version="test")


def mixed(n_central: int, n_sector: int, n_neutral: int, *, source: str = "doc") -> TaggedDocument:
    """A document with confident sentences of each kind, in an interleaved order."""
    rows = ([(f"The central authority shall register system number {i}.", 0.9, 0.05)
             for i in range(n_central)]
            + [(f"The sector regulator number {i} applies its own rules.", 0.05, 0.9)
               for i in range(n_sector)]
            + [(f"Definitions and procedure, paragraph {i}.", 0.03, 0.02) for i in range(n_neutral)])
    rows.sort(key=lambda r: r[0][-4:])  # deterministic interleaving
    return document(rows, source=source, title=source)
