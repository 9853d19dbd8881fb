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


@pytest.fixture()
def disk_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """The real ``os.fsync`` and ``os.replace`` calls, watched: (call, path) in order."""
    calls: list[tuple[str, str]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        calls.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        calls.append(("replace", os.fspath(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    return calls


def test_data_is_synced_before_the_rename_and_the_folder_after(tmp_path: Path,
                                                               disk_calls: list[tuple[str, str]]) -> None:
    # regression: no fsync at all, so a power cut could leave an empty file where the old one was
    target = tmp_path / "out.txt"
    target.write_text("old", encoding="utf-8")
    write_text_atomic(target, "new\n")
    assert target.read_text(encoding="utf-8") == "new\n"
    renamed = disk_calls.index(("replace", str(target)))
    synced_first = [path for call, path in disk_calls[:renamed] if call == "fsync"]
    assert [Path(p).parent for p in synced_first] == [tmp_path]
    assert Path(synced_first[0]).name.startswith(".out.txt.")  # the new bytes, under their temporary name
    assert ("fsync", str(tmp_path)) in disk_calls[renamed + 1:]


def test_raw_objects_sync_their_folder_after_the_rename(tmp_path: Path,
                                                        disk_calls: list[tuple[str, str]]) -> None:
    from policylens.corpus.objects import ObjectStore

    objects = ObjectStore(tmp_path / "objects")
    sha = objects.put_bytes(b"%PDF-1.4 a document")
    renamed = disk_calls.index(("replace", str(objects.path(sha))))
    assert ("fsync", str(objects.path(sha).parent)) in disk_calls[renamed + 1:]
