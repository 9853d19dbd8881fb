"""Collecting raw files that no stored version references (``policylens corpus gc``).

A refresh stores each download in the object store before it processes it, so a
refresh that is killed, or a document whose processing fails, leaves objects
that no ``versions`` row names; a kill in the middle of a download leaves a
``.incoming-*`` temporary file. ``collect`` removes both while holding the
store's refresh lock, so that no refresh is writing objects meanwhile; every
refresh also collects at its end. Only names the object store itself gives
(``ab/<sha256>`` and ``.incoming-*``) are ever removed: anything else found in
the folder is left alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from policylens.corpus.lock import RefreshLock
from policylens.corpus.objects import INCOMING_PREFIX
from policylens.corpus.store import Store

_SHA256 = re.compile(r"[0-9a-f]{64}")
_FANOUT = re.compile(r"[0-9a-f]{2}")


@dataclass(frozen=True, slots=True)
class Collected:
    """What a collection removed (or, with ``dry_run``, would remove)."""

    objects: int = 0  # raw files no stored version references
    partial: int = 0  # temporary files of interrupted downloads
    bytes: int = 0
    paths: tuple[str, ...] = ()
    dry_run: bool = False

    @property
    def files(self) -> int:
        return self.objects + self.partial

    def to_dict(self) -> dict[str, Any]:
        return {"objects": self.objects, "partial": self.partial, "bytes": self.bytes,
                "paths": list(self.paths), "dry_run": self.dry_run}


def collect(store: Store | str | Path, *, dry_run: bool = False) -> Collected:
    """Remove the raw files of ``store`` that no version references, under its refresh lock.

    Raises ``LockHeld`` (exit code 3) while a refresh runs, and ``StoreError`` for a
    damaged store (then nothing is removed: what is referenced cannot be known).
    """
    own_store = not isinstance(store, Store)
    db = Store(store, create=False) if not isinstance(store, Store) else store
    try:
        with RefreshLock(db.path):
            return collect_locked(db, dry_run=dry_run)
    finally:
        if own_store:
            db.close()


def collect_locked(store: Store, *, dry_run: bool = False) -> Collected:
    """``collect`` for a caller that already holds the store's refresh lock (a refresh)."""
    root = store.objects.root
    if not root.is_dir():
        return Collected(dry_run=dry_run)
    referenced = store.referenced_objects()  # read before listing: an error removes nothing
    orphans: list[Path] = []
    partial: list[Path] = []
    for entry in sorted(root.iterdir()):
        if entry.name.startswith(INCOMING_PREFIX) and entry.is_file():
            partial.append(entry)
        elif _FANOUT.fullmatch(entry.name) and entry.is_dir() and not entry.is_symlink():
            orphans.extend(path for path in sorted(entry.iterdir())
                           if _SHA256.fullmatch(path.name) and path.name.startswith(entry.name)
                           and path.name not in referenced and not path.is_dir())
    size = 0
    for path in (*orphans, *partial):
        size += path.lstat().st_size
        if not dry_run:
            path.unlink(missing_ok=True)
    if not dry_run:
        for folder in {path.parent for path in orphans}:
            if not any(folder.iterdir()):
                folder.rmdir()
    return Collected(objects=len(orphans), partial=len(partial), bytes=size,
                     paths=tuple(str(p) for p in (*orphans, *partial)), dry_run=dry_run)
