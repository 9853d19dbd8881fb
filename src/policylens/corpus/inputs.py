"""The files a command or ``rank_documents`` works on: named files, and folders searched."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from policylens.errors import UsageError


def collect_files(paths: Sequence[Path], suffixes: Iterable[str]) -> list[Path]:
    """Files named directly, plus every file with a known suffix below named folders.

    Hidden files and folders below a named folder are skipped. A missing path is a
    usage error; a named file with an unknown suffix is kept, so that the extractor
    reports it clearly rather than it vanishing.
    """
    wanted = {s.lower() for s in suffixes}
    files: list[Path] = []
    for path in paths:
        if str(path) == "-":
            files.append(path)
        elif path.is_dir():
            # hidden files and folders below the named folder are skipped, but the named
            # folder itself may sit inside a hidden one (~/.cache/docs)
            files.extend(sorted(p for p in path.rglob("*")
                                if p.is_file() and p.suffix.lower() in wanted
                                and not any(part.startswith(".") for part in p.relative_to(path).parts)))
        elif path.exists():
            files.append(path)
        else:
            raise UsageError(f"no such file or folder: {path}")
    if not files:
        raise UsageError("no input documents found (looked for " + ", ".join(sorted(wanted)) + ")")
    return files
