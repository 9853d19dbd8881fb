"""The refresh lock: at most one refresh per store, so cron runs never overlap.

``fcntl.flock`` on ``<store>.lock``, taken without blocking. The kernel drops
the lock when its holder exits, however it exits (even ``kill -9``), so a stale
lock file never blocks the next run; the pid written inside only serves the
error message of a refresh that finds the lock taken.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

from policylens.errors import LockHeld, UsageError

#: File descriptors of the locks this process holds (see ``_drop_in_child``).
_HELD: set[int] = set()
_FORK_HOOK = False


def _drop_in_child() -> None:
    """In a forked worker, point the inherited lock descriptors at /dev/null.

    An flock belongs to the open file, which ``fork`` shares: a worker that outlives a
    killed refresh would keep the store locked. Replacing its copy of the descriptor lets
    the lock go with the parent, and never unlocks it for the parent (no ``LOCK_UN``).
    """
    if not _HELD:
        return
    null = os.open(os.devnull, os.O_RDONLY)
    try:
        for fd in _HELD:
            os.dup2(null, fd)
    finally:
        os.close(null)
    _HELD.clear()


class RefreshLock:
    """Hold ``<store>.lock`` exclusively for the duration of a ``with`` block."""

    def __init__(self, store_path: str | Path) -> None:
        store_path = Path(store_path)
        self.path = store_path.with_name(store_path.name + ".lock")
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        """Take the lock, or raise ``LockHeld`` (exit code 3) when another refresh has it.

        Any other failure (the store's folder is missing or read-only, the lock
        path is a folder, a file system without ``flock``) is a ``UsageError``
        (exit code 2) that names the lock file: it is never "another refresh".
        """
        try:
            # 'a+' so that a failed attempt does not truncate the holder's pid
            handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held until release()
        except OSError as exc:
            raise UsageError(f"cannot create the refresh lock {self.path}: {exc.strerror or exc}; "
                             "the store's folder must exist and be writable") from None
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise LockHeld(f"another refresh (pid {holder}) is running on this store; "
                           f"try again when it has finished (lock: {self.path})") from None
        except OSError as exc:  # e.g. ENOLCK: some network file systems cannot lock
            handle.close()
            raise UsageError(f"cannot lock {self.path}: {exc.strerror or exc}; "
                             "put the store on a file system that supports flock") from None
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(f"{os.getpid()}\n")
            handle.flush()
        except OSError as exc:  # a full disk: the lock is ours, but say so cleanly and let go
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
            handle.close()
            raise UsageError(f"cannot write the refresh lock {self.path}: {exc.strerror or exc}") from None
        global _FORK_HOOK
        if not _FORK_HOOK:
            os.register_at_fork(after_in_child=_drop_in_child)
            _FORK_HOOK = True
        _HELD.add(handle.fileno())
        self._file = handle

    def release(self) -> None:
        if self._file is not None:
            _HELD.discard(self._file.fileno())
            self._file.seek(0)
            self._file.truncate()
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None

    def __enter__(self) -> RefreshLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
