"""The extraction stage's output: a ``Document`` made of ``Block``\\ s.

These frozen dataclasses are the contract between ``extract`` and every later
stage; their ``to_dict`` form is the JSON output format documented in the
README (``policylens extract --format json``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

BlockKind = Literal["heading", "paragraph", "list_item", "table", "footnote"]
BLOCK_KINDS: tuple[BlockKind, ...] = ("heading", "paragraph", "list_item", "table", "footnote")
Verdict = Literal["good", "fair", "poor"]


@dataclass(frozen=True, slots=True)
class Block:
    """One unit of clean text: a heading, paragraph, list item, table or footnote.

    ``page`` is 1-based provenance (``None`` for sources without pages, such as
    ``.txt``); ``section`` is the nearest heading above the block (for example
    ``"Article 5 Prohibited AI practices"``), ``None`` before the first heading.
    """

    page: int | None
    kind: BlockKind
    text: str
    section: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"page": self.page, "kind": self.kind, "section": self.section, "text": self.text}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Block:
        return cls(
            page=data.get("page"),
            kind=data["kind"],
            text=data["text"],
            section=data.get("section"),
        )


@dataclass(frozen=True, slots=True)
class Quality:
    """How far a researcher can trust the extracted text of one document.

    ``verdict`` is ``good``, ``fair`` or ``poor``; ``issues`` says why in plain
    words (for example ``"no text layer on pages 3-7"``).
    """

    verdict: Verdict = "good"
    text_coverage: float = 1.0  # share of pages with a usable text layer
    empty_pages: tuple[int, ...] = ()  # 1-based pages without text
    issues: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "text_coverage": round(self.text_coverage, 4),
            "empty_pages": list(self.empty_pages),
            "issues": list(self.issues),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Quality:
        return cls(
            verdict=data.get("verdict", "good"),
            text_coverage=float(data.get("text_coverage", 1.0)),
            empty_pages=tuple(data.get("empty_pages", ())),
            issues=tuple(data.get("issues", ())),
        )


@dataclass(frozen=True, slots=True)
class Document:
    """A whole extracted document, in reading order."""

    source: str  # the path (or URL) it was read from
    sha256: str  # of the raw bytes
    title: str
    n_pages: int  # 0 for sources without pages
    blocks: tuple[Block, ...]
    metadata: Mapping[str, str] = field(default_factory=dict)
    quality: Quality = field(default_factory=Quality)

    @property
    def text(self) -> str:
        """All block texts joined by blank lines (what ``--format text`` prints)."""
        return "\n\n".join(block.text for block in self.blocks)

    @property
    def body_blocks(self) -> tuple[Block, ...]:
        """Blocks that carry running text: everything but tables and footnotes."""
        return tuple(b for b in self.blocks if b.kind not in ("table", "footnote"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "sha256": self.sha256,
            "title": self.title,
            "n_pages": self.n_pages,
            "metadata": dict(self.metadata),
            "quality": self.quality.to_dict(),
            "blocks": [block.to_dict() for block in self.blocks],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Document:
        return cls(
            source=data["source"],
            sha256=data["sha256"],
            title=data.get("title", ""),
            n_pages=int(data.get("n_pages", 0)),
            blocks=tuple(Block.from_dict(b) for b in data.get("blocks", ())),
            metadata=dict(data.get("metadata", {})),
            quality=Quality.from_dict(data.get("quality", {})),
        )
