"""Atomic file writes: a temporary file in the target's folder, then one rename.

A crash, a full disk or a kill at any moment leaves either the old file or the
new one, never half of one. Used for every output policylens writes (extracted
text, reports, exports).
"""

from __future__ import annotations

import contextlib
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
        os.replace(tmp, target)
    except OSError as error:
        if error.filename in (name, str(tmp)):
            raise _about(error, target) from None
        raise
    finally:
        tmp.unlink(missing_ok=True)


def _about(error: OSError, target: Path) -> OSError:
    """The same error, naming the file the user asked for instead of our hidden temp file."""
    return type(error)(error.errno, error.strerror, str(target))


def write_text_atomic(target: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8, ``\\n`` line ends) to ``target`` atomically, creating its folder."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="\n")
