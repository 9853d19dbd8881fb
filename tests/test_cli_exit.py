"""The console entry point ends the process without the interpreter's teardown (``cli.main``):
what a command wrote still arrives whole, through a pipe, with the command's exit code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

TEXT = ("A single national authority shall license every artificial intelligence system. "
        "Existing financial supervisors will apply their current powers to credit scoring tools.\n")


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "policylens.cli", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300, check=False)


@pytest.mark.timeout(300)
def test_rank_output_arrives_whole_with_each_exit_code(tmp_path: Path) -> None:
    for n in range(3):
        (tmp_path / f"law-{n}.txt").write_text(f"Law {n}\n\n" + TEXT * (n + 1), encoding="utf-8")
    done = _cli("rank", ".", "--format", "json", "--workers", "2", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    ranked = json.loads(done.stdout)  # the whole document: nothing lost in a buffer at exit
    assert sorted(d["id"] for d in ranked) == ["law-0", "law-1", "law-2"]

    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 not really a PDF")
    failed = _cli("rank", ".", "--format", "json", "--workers", "1", cwd=tmp_path)
    assert failed.returncode == 1  # one input failed: its exit code survives the fast exit
    assert len(json.loads(failed.stdout)) == 3 and "broken.pdf" in failed.stderr

    usage = _cli("rank", ".", "--format", "parquet", cwd=tmp_path)
    assert usage.returncode == 2 and "--out" in usage.stderr


def test_help_exits_zero_with_its_text(tmp_path: Path) -> None:
    done = _cli("--help", cwd=tmp_path)
    assert done.returncode == 0 and "rank" in done.stdout
    version = _cli("--version", cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.startswith("policylens ")
