"""Atomic file writes: a temporary file in the target's folder, then one rename.

A crash, a full disk or a kill at any moment leaves either the old file or the
new one, never half of one. Used for every output policylens writes (extracted
text, reports, exports, models).

The new file's bytes are flushed to disk (``fsync``) before the rename, and the
folder after it: without the first, a power cut can leave an empty file under
the target's name (the rename reached the disk, the data did not); without the
second, the rename itself can be lost.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


def _default_mode() -> int:
    """0o666 less the process umask: what ``open()`` would have given (mkstemp gives 0o600).

    The umask is read from /proc where it exists: setting it to read it back, the only
    portable way, changes it for every thread for a moment.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            umask = next(int(line.split()[1], 8) for line in status if line.startswith("Umask:"))
    except (OSError, StopIteration, ValueError, IndexError):
        umask = os.umask(0)
        os.umask(umask)
    return 0o666 & ~umask


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it replaces ``target``.

    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_path(folder / "out.txt") as tmp:
    ...     _ = tmp.write_text("done")
    >>> (folder / "out.txt").read_text()
    'done'
    >>> sorted(p.name for p in folder.iterdir())
    ['out.txt']
    """
    target = Path(target)
    try:
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as error:
        raise _about(error, target) from None
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, _default_mode())
        fsync_file(tmp)
        os.replace(tmp, target)
        fsync_folder(target.parent)
    except OSError as error:
        if error.filename in (name, str(tmp)):
            raise _about(error, target) from None
        raise
    finally:
        tmp.unlink(missing_ok=True)


def fsync_file(path: str | Path) -> None:
    """Flush ``path``'s data to disk (Linux flushes a file's pages through any descriptor of it)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_folder(folder: str | Path) -> None:
    """Flush ``folder``'s entries (a rename or a new file in it) to disk.

    A file system that cannot sync a folder (some network and FUSE file systems
    answer EINVAL) is left at that: there is nothing more this process can do.
    """
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError as error:
        if error.errno in (errno.EACCES, errno.EPERM):  # a folder we may write to but not list
            return
        raise
    try:
        os.fsync(fd)
    except OSError as error:
        if error.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise
    finally:
        os.close(fd)


def _about(error: OSError, target: Path) -> OSError:
    """The same error, naming the file the user asked for instead of our hidden temp file."""
    return type(error)(error.errno, error.strerror, str(target))


def write_text_atomic(target: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8, ``\\n`` line ends) to ``target`` atomically, creating its folder."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="\n")
