"""The tagging stage: spaCy components and the governance sentence classifier.

Public API (imported lazily, so that spaCy's entry-point loading of the
components stays cheap)::

    load_pipeline(model=None, *, spacy_model=None, role_model="linear") -> spacy.Language  # cached
    # role_model="encoder": the slower encoder role mode (policylens.nlp.role_encoder)
    tag(document, *, nlp=None) -> TaggedDocument
    tag_text(text, *, source="<text>", nlp=None) -> TaggedDocument
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from policylens.nlp.spacy_import import defer_spacy_cli

defer_spacy_cli()  # before any module of this package imports spaCy (spacy_import.py)

if TYPE_CHECKING:  # pragma: no cover
    from policylens.nlp.pipeline import load_pipeline, tag, tag_text

__all__ = ["load_pipeline", "tag", "tag_text"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from policylens.nlp import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'policylens.nlp' has no attribute {name!r}")
