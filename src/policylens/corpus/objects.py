"""Content-addressed raw files beside the store: ``<store>.objects/ab/<sha256>``.

Objects are written to a temporary file in the same folder and renamed into
place, so a reader (or a run killed half-way) never sees a partial object. The
same bytes always land at the same name, so writing twice is harmless.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import BinaryIO

from policylens.atomic import fsync_folder

CHUNK = 1 << 16
INCOMING_PREFIX = ".incoming-"  # a download being written (left behind if its writer was killed)


class ObjectStore:
    """Raw document bytes, named by their sha256."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def has(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def read(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()

    def put_bytes(self, data: bytes) -> str:
        """Store ``data``; return its sha256."""
        sha = hashlib.sha256(data).hexdigest()
        if not self.has(sha):
            with self.writer() as sink:
                sink.write(data)
                sink.commit()
        return sha

    def writer(self) -> ObjectWriter:
        """A sink to stream bytes into; ``commit()`` names it by its hash."""
        return ObjectWriter(self)


class ObjectWriter:
    """Streams bytes to a temporary file, hashing them, then renames it into place."""

    def __init__(self, store: ObjectStore) -> None:
        self.store = store
        self.size = 0
        self._hash = hashlib.sha256()
        store.root.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=INCOMING_PREFIX, dir=store.root)
        self._tmp = Path(name)
        self._file: BinaryIO = os.fdopen(fd, "wb")
        self.sha256: str | None = None

    def write(self, chunk: bytes) -> None:
        self._file.write(chunk)
        self._hash.update(chunk)
        self.size += len(chunk)

    def hexdigest(self) -> str:
        """The sha256 of the bytes written so far (the name ``commit`` would give them)."""
        return self._hash.hexdigest()

    def commit(self) -> str:
        """Finish the object and move it to its content address; return the sha256."""
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        sha = self._hash.hexdigest()
        target = self.store.path(sha)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self._tmp, target)
        fsync_folder(target.parent)  # the rename too must survive a power cut
        self.sha256 = sha
        return sha

    def discard(self) -> None:
        if not self._file.closed:
            self._file.close()
        self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> ObjectWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.sha256 is None:
            self.discard()
