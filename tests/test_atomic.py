"""Atomic writes: all or nothing, with ordinary permissions."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from policylens.atomic import atomic_path, write_text_atomic


def test_written_file_gets_umask_permissions_not_private_ones(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        write_text_atomic(tmp_path / "sub" / "out.txt", "hello\n")
    finally:
        os.umask(old)
    target = tmp_path / "sub" / "out.txt"
    assert target.read_text(encoding="utf-8") == "hello\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def test_failure_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half", encoding="utf-8")
        raise RuntimeError("disk full")
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_errors_name_the_target_not_the_hidden_temporary(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder" / "out.txt"
    with pytest.raises(FileNotFoundError) as caught, atomic_path(missing):
        pass
    assert caught.value.filename == str(missing)

    folder_in_the_way = tmp_path / "out.txt"
    folder_in_the_way.mkdir()
    with pytest.raises(OSError) as caught, atomic_path(folder_in_the_way) as tmp:
        tmp.write_text("new", encoding="utf-8")
    assert caught.value.filename == str(folder_in_the_way)
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]
