"""policylens: how does a policy framework propose to govern AI?

Reads policy documents (PDF, text, Markdown, HTML), tags each sentence as
``centralized``, ``sector_specific`` or ``neutral`` governance language, and
scores whole frameworks on a centralization index in [-1, 1].

The stages follow the data::

    extract(path) -> Document -> tag(document) -> TaggedDocument -> score(tagged) -> FrameworkScore

``analyze(path)`` runs all three on one file; ``rank_documents(paths, metadata=..., key=...,
group_by=...)`` ranks a collection, joins its metadata and compares groups (a ``Ranking``).

Imports are lazy so that ``import policylens`` stays cheap (the CLI's
``--help`` should not load spaCy).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:  # pragma: no cover
    # ruff: noqa: F401  (names re-exported lazily through __getattr__)
    from policylens.corpus.ranking import Ranking, rank_documents
    from policylens.extract.document import Block, Document
    from policylens.nlp import tag, tag_text
    from policylens.nlp.types import TaggedDocument, TaggedSentence
    from policylens.rank import analyze, score
    from policylens.rank.types import FrameworkScore

# ``extract`` and ``rank`` are subpackages, so their functions are imported from
# there (``from policylens.extract import extract``); a top-level alias would be
# shadowed by the subpackage as soon as it is imported.
_LAZY = {
    "Document": ("policylens.extract.document", "Document"),
    "Block": ("policylens.extract.document", "Block"),
    "tag": ("policylens.nlp", "tag"),
    "tag_text": ("policylens.nlp", "tag_text"),
    "TaggedDocument": ("policylens.nlp.types", "TaggedDocument"),
    "TaggedSentence": ("policylens.nlp.types", "TaggedSentence"),
    "score": ("policylens.rank", "score"),
    "analyze": ("policylens.rank", "analyze"),
    "FrameworkScore": ("policylens.rank.types", "FrameworkScore"),
    "rank_documents": ("policylens.corpus.ranking", "rank_documents"),
    "Ranking": ("policylens.corpus.ranking", "Ranking"),
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    try:
        module_name, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'policylens' has no attribute {name!r}") from None
    import importlib

    return getattr(importlib.import_module(module_name), attr)
