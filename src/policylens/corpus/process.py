"""The per-document work a refresh sends to an engine: extract, tag, score.

Everything here runs in a worker (a local process or a Dask worker), so the
functions are module-level and their inputs and outputs are small frozen
dataclasses. A Dask worker on another machine cannot read our files, so a
``WorkItem`` carries either a path (local engine) or the bytes (Dask engine).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from policylens.extract.document import Document
from policylens.nlp.types import TaggedDocument
from policylens.rank.types import FrameworkScore

Processed = tuple[Document, TaggedDocument, FrameworkScore]


@dataclass(frozen=True, slots=True)
class WorkItem:
    """One document to process: raw content to extract, or stored blocks to re-tag."""

    doc_id: str
    source: str  # URL or path, recorded as the document's source
    title: str  # the manifest's title, which wins over the one extraction guesses
    kind: str = "txt"  # pdf, html, txt or md: decides the extractor
    path: str | None = None  # a raw file the worker can read (read as is when its suffix is the kind's)
    data: bytes | None = None  # the raw bytes, for workers that cannot see our files
    document: Document | None = None  # already extracted: only tag and score
    scope: str | None = None  # the manifest's instrument scope, overriding the scope model


def process_file(path: str | Path, *, source: str | None = None, title: str | None = None,
                 scope: str | None = None) -> Processed:
    """Extract, tag and score one file: ``policylens.rank.analyze`` under the manifest's name
    (and with the manifest's ``scope``, when it sets one)."""
    from policylens.rank.analysis import analyze

    result = analyze(path, source=source, title=title, scope=scope)
    return result.document, result.tagged, result.score


def process_document(document: Document, *,
                     scope: str | None = None) -> tuple[TaggedDocument, FrameworkScore]:
    """Tag and score an extracted document (a re-tag after the model changed)."""
    from policylens.rank.analysis import analyze_document

    result = analyze_document(document, scope=scope)
    return result.tagged, result.score


def run_item(item: WorkItem) -> Processed:
    """Process one ``WorkItem`` (the function engines map over)."""
    if item.document is not None:
        tagged, score = process_document(item.document, scope=item.scope)
        return item.document, tagged, score
    if item.path is not None and Path(item.path).suffix == f".{item.kind}":  # named as the extractor needs
        return process_file(item.path, source=item.source, title=item.title, scope=item.scope)
    with tempfile.TemporaryDirectory(prefix="policylens-") as folder:
        # the extractor chooses its reader by suffix, and objects have none
        named = Path(folder) / f"{item.doc_id}.{item.kind}"
        if item.data is not None:
            named.write_bytes(item.data)
        elif item.path is not None:
            try:
                os.symlink(os.path.abspath(item.path), named)
            except OSError:  # pragma: no cover - file systems without symlinks
                named.write_bytes(Path(item.path).read_bytes())
        else:
            raise ValueError(f"work item {item.doc_id!r} has neither a path, bytes nor a document")
        return process_file(named, source=item.source, title=item.title, scope=item.scope)


def model_version() -> str:
    """The version of the tagging model a refresh would use now, read from its files.

    Building the pipeline takes seconds, and a refresh where nothing changed needs
    nothing but this; the engine's workers build it when there is work.
    """
    from policylens.nlp.model_files import model_version as version_of

    return version_of()
