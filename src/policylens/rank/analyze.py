"""The per-file work of ``policylens rank``: extract, tag and score one document.

``analyze`` is a top-level function so that engines can send it to worker
processes; each worker loads the tagging pipeline once (it is cached).
"""

from __future__ import annotations

from dataclasses import dataclass
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


def analyze(path: str | Path, *, password: str | None = None, method: str | None = None) -> Analysis:
    """Extract, tag and score the document at ``path``."""
    from policylens.extract import extract
    from policylens.nlp import tag

    document = extract(Path(path), password=password)
    tagged = tag(document)
    return Analysis(document=document, tagged=tagged, score=score(tagged, method=method))
