"""The corpus stage: manifests, the embedded store, refreshes and engines.

    load_manifest(path) -> Manifest
    refresh(manifest, store, settings=None, *, progress=None) -> RefreshReport
    Store(path).latest_scores() -> list[FrameworkScore]; Store(path).tagged(doc_id) -> TaggedDocument
    export(store, out, *, fmt="parquet", what="sentences", partition_by=None) -> int
    collect(store, *, dry_run=False) -> Collected   (remove raw files no version references)
    process_file(path) -> (Document, TaggedDocument, FrameworkScore)

Names are imported lazily so that importing ``policylens.corpus.engines`` (every
CLI command does) stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "Manifest": "policylens.corpus.manifest",
    "ManifestEntry": "policylens.corpus.manifest",
    "load_manifest": "policylens.corpus.manifest",
    "Store": "policylens.corpus.store",
    "refresh": "policylens.corpus.refresh",
    "RefreshReport": "policylens.corpus.refresh",
    "RefreshSettings": "policylens.corpus.refresh",
    "export": "policylens.corpus.export",
    "collect": "policylens.corpus.gc",
    "Collected": "policylens.corpus.gc",
    "process_file": "policylens.corpus.process",
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'policylens.corpus' has no attribute {name!r}")
    return getattr(importlib.import_module(_LAZY[name]), name)
