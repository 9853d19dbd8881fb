"""A small on-disk cache of compiled data (JSON or numpy arrays, never pickle), keyed by content hash.

Compiled forms of pattern files (``nlp.cues``, ``nlp.facets``) and of model weights
(``nlp.model``) are written here on first use and read back at later starts. The folder
is ``$POLICYLENS_HOME/cache`` when ``POLICYLENS_HOME`` is set, else
``$XDG_CACHE_HOME/policylens`` (``~/.cache/policylens``). An entry is one JSON file, or
one ``.npz`` file of plain arrays (read with ``allow_pickle=False``), named after its
key; writes are atomic, and an entry that cannot be read or parsed is treated as missing
(the caller rebuilds it). A cache that cannot be written (read-only home) is skipped: it
only costs time, never a result.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from policylens.atomic import atomic_path, write_text_atomic

if TYPE_CHECKING:  # numpy loads only when arrays are cached
    import numpy as np

log = logging.getLogger(__name__)


def cache_dir() -> Path:
    """Where cached entries live (created on first write, not here)."""
    home = os.environ.get("POLICYLENS_HOME", "").strip()
    if home:
        return Path(home) / "cache"
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or str(Path.home() / ".cache")
    return Path(base) / "policylens"


def content_key(*parts: Any) -> str:
    """A hex digest of ``parts`` (JSON-serialisable): the cache key of data compiled from them."""
    blob = json.dumps(parts, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()[:32]


def _path(kind: str, key: str) -> Path:
    return cache_dir() / f"{kind}-{key}.json"


def read_entry(kind: str, key: str) -> Any | None:
    """The cached JSON value of ``kind``/``key``, or ``None`` when missing or unreadable."""
    path = _path(kind, key)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:  # ValueError covers bad JSON and bad UTF-8
        log.debug("ignoring unreadable cache entry %s: %s", path, exc)
        return None


def write_entry(kind: str, key: str, value: Any) -> None:
    """Store ``value`` as ``kind``/``key`` atomically; a cache that cannot be written is skipped."""
    path = _path(kind, key)
    try:
        write_text_atomic(path, json.dumps(value, ensure_ascii=False, separators=(",", ":")))
    except OSError as exc:
        log.debug("cache entry %s not written: %s", path, exc)


def _array_path(kind: str, key: str) -> Path:
    return cache_dir() / f"{kind}-{key}.npz"


def read_arrays(kind: str, key: str) -> dict[str, np.ndarray] | None:
    """The cached arrays of ``kind``/``key``, or ``None`` when missing or unreadable.

    Object arrays (which would need pickle) are refused: such an entry counts as unreadable.
    """
    import numpy as np

    path = _array_path(kind, key)
    try:
        with np.load(path, allow_pickle=False) as entry:
            return {name: entry[name] for name in entry.files}
    except FileNotFoundError:
        return None
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as exc:
        log.debug("ignoring unreadable cache entry %s: %s", path, exc)
        return None


def write_arrays(kind: str, key: str, arrays: Mapping[str, np.ndarray]) -> None:
    """Store ``arrays`` (numeric or fixed-width, never object arrays) as ``kind``/``key`` atomically."""
    import numpy as np

    path = _array_path(kind, key)
    if any(np.asarray(a).dtype.hasobject for a in arrays.values()):
        raise ValueError(f"cache entry {kind}: object arrays would need pickle")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        savez: Any = np.savez  # its stubs cannot tell array names from its allow_pickle flag
        with atomic_path(path) as tmp, open(tmp, "wb") as handle:
            savez(handle, allow_pickle=False, **arrays)  # a file object: savez would add ".npz" to a name
    except OSError as exc:
        log.debug("cache entry %s not written: %s", path, exc)
