"""Ingesting local files without a manifest (``policylens corpus add PATH...``).

Each file becomes a document whose id is a slug of its file name; it is then
processed exactly like a manifest refresh (same lock, store, engine and report)
except that nothing is ever marked removed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from policylens.corpus.manifest import ID_PATTERN, Manifest, ManifestEntry
from policylens.corpus.refresh import ProgressCallback, RefreshReport, refresh
from policylens.corpus.store import Store
from policylens.errors import UsageError
from policylens.extract import SUFFIXES


def slug(name: str) -> str:
    """A safe document id made from a file name.

    >>> slug("EU AI Act (2024).pdf")
    'eu-ai-act-2024'
    """
    stem = Path(name).stem.lower()
    text = re.sub(r"[^a-z0-9._-]+", "-", stem).strip("-._")[:120].strip("-._")
    return text or "document"


def manifest_for(paths: Sequence[str | Path]) -> Manifest:
    """An in-memory manifest listing the documents found at ``paths`` (files or folders)."""
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES
                                and not any(part.startswith(".") for part in p.relative_to(path).parts)))
        elif path.is_file():
            files.append(path)
        else:
            raise UsageError(f"no such file or folder: {path}")
    if not files:
        raise UsageError("no documents found (looked for " + ", ".join(SUFFIXES) + ")")
    entries: list[ManifestEntry] = []
    seen: set[str] = set()
    for file in files:
        base = slug(file.name)
        doc_id, n = base, 1
        while doc_id in seen:
            n += 1
            doc_id = f"{base}-{n}"
        assert ID_PATTERN.match(doc_id), doc_id
        seen.add(doc_id)
        entries.append(ManifestEntry(id=doc_id, title=file.stem, jurisdiction="", year=None, doc_type="",
                                     path=file.resolve()))
    return Manifest(path=Path.cwd() / "(corpus add)", name="added", documents=tuple(entries),
                    ids=frozenset(seen))


def add_paths(paths: Sequence[str | Path], store: Store | str | Path,
              settings: Mapping[str, Any] | None = None, *,
              progress: ProgressCallback | None = None) -> RefreshReport:
    """Ingest the documents at ``paths`` into ``store``; report like a refresh."""
    options = {k: v for k, v in (settings or {}).items() if v is not None}
    return refresh(manifest_for(paths), store, {**options, "remove_missing": False}, progress=progress)
