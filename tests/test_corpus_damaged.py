"""A damaged store, or one written by a newer policylens: a clear error, exit 1, nothing written.

The damage is real: 4 KB of garbage written over a page of a real store file,
as a failing disk or a copy cut short would leave it.
"""

from __future__ import annotations

import hashlib
import random
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from policylens.cli import app
from policylens.corpus.manifest import load_manifest
from policylens.corpus.refresh import refresh
from policylens.corpus.store import Fetched, Store
from policylens.errors import StoreError
from test_corpus_helpers import CENTRAL, contract_objects, entry, write_manifest

runner = CliRunner()
DOCUMENTS = [f"doc-{i}" for i in range(12)]


def _fill(path: Path, manifest: Path) -> None:
    """A real store of 12 scored documents and one finished run (about 200 KB)."""
    with Store(path) as store:
        store.sync_documents(load_manifest(manifest))
        for doc_id in DOCUMENTS:
            data = f"the text of {doc_id}".encode()
            sha = store.objects.put_bytes(data)
            document, tagged, score = contract_objects(doc_id, n=20)
            store.record_version(doc_id, Fetched(sha256=sha, size=len(data), source=doc_id, kind="txt"),
                                 document, tagged, score)
        run = store.begin_run(manifest=str(manifest), model_version="test-model-1", pid=1)
        store.finish_run(run, status="ok", counts={"new": len(DOCUMENTS)}, errors=[])


def _garbage(path: Path, offset: int) -> None:
    with open(path, "r+b") as handle:
        handle.seek(offset)
        handle.write(random.Random(16).randbytes(4096))


def _newer(path: Path) -> None:
    db = sqlite3.connect(path)
    with db:
        db.execute("INSERT INTO migrations VALUES ('m999_future', '2030-01-01')")
    db.close()


def _state(folder: Path) -> dict[str, str]:
    """Every file beside the store (the store, its objects, exports) by name, with its hash.

    An empty write-ahead log, SQLite's shared-memory index and the refresh lock hold no data
    and are left out; a write-ahead log with anything in it counts.
    """
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.name.endswith(("-shm", ".lock"))
            and not (p.name.endswith("-wal") and p.stat().st_size == 0)}


@pytest.fixture()
def corpus(tmp_path: Path) -> tuple[Path, Path]:
    """(manifest, store path): the manifest lists one local note and the stored documents."""
    (tmp_path / "note.md").write_text("# Note\n\n" + "\n\n".join(CENTRAL) + "\n", encoding="utf-8")
    entries = [entry(d, url=f"https://example.org/{d}.pdf") for d in DOCUMENTS]
    manifest = write_manifest(tmp_path / "corpus.toml", [*entries, entry("note", path="note.md")])
    store = tmp_path / "s.db"
    _fill(store, manifest)
    return manifest, store


COMMANDS: dict[str, Callable[[Path, Path], list[str]]] = {
    "status": lambda manifest, store: ["corpus", "status", "--store", str(store)],
    "status --json": lambda manifest, store: ["corpus", "status", "--store", str(store), "--json"],
    "refresh": lambda manifest, store: ["corpus", "refresh", str(manifest), "--store", str(store),
                                        "--workers", "1"],
    "rank --store": lambda manifest, store: ["rank", "--store", str(store)],
    "rank --store --report": lambda manifest, store: ["rank", "--store", str(store), "--report",
                                                      str(store.parent / "report.html")],
    "export": lambda manifest, store: ["corpus", "export", "--store", str(store), "--format", "csv",
                                       "--out", str(store.parent / "sentences.csv")],
    "add": lambda manifest, store: ["corpus", "add", str(store.parent / "note.md"), "--store", str(store)],
    "gc": lambda manifest, store: ["corpus", "gc", "--store", str(store)],
}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_damaged_page_is_a_clear_error_and_nothing_is_written(corpus: tuple[Path, Path],
                                                                command: str) -> None:
    # regression: 4 KB of garbage at offset 8192 crashed 'corpus status' and 'corpus refresh' with a
    # traceback, while 'rank --store' and 'corpus export' exited 0 without noticing
    manifest, store = corpus
    _garbage(store, 8192)
    before = _state(store.parent)
    result = runner.invoke(app, COMMANDS[command](manifest, store))
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)  # a message, not a traceback
    message = " ".join(result.output.split())
    assert f"the store {store} is damaged" in message
    assert "rebuild it from its manifest into a new store" in message
    assert _state(store.parent) == before  # no byte of the store, no object, no output written


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_store_from_a_newer_policylens_is_refused_and_left_as_it_is(corpus: tuple[Path, Path],
                                                                      command: str) -> None:
    manifest, store = corpus
    _newer(store)
    before = _state(store.parent)
    result = runner.invoke(app, COMMANDS[command](manifest, store))
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    message = " ".join(result.output.split())
    assert "written by a newer policylens (migrations m999_future)" in message
    assert "upgrade policylens" in message and "new store" in message
    assert _state(store.parent) == before


def test_damage_met_after_opening_stops_every_write(corpus: tuple[Path, Path]) -> None:
    manifest, path = corpus
    with Store(path) as store:
        # damage the page of the runs table while the store is open, and drop SQLite's page cache
        # so that the next query reads it from the file
        page = store.db.execute("PRAGMA page_size").fetchone()[0]
        root = store.db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'runs'").fetchone()[0]
        _garbage(path, (root - 1) * page)
        store.db.execute("PRAGMA shrink_memory")
        before = _state(path.parent)

        with pytest.raises(StoreError, match=r"is damaged .*new store"):
            store.runs()
        assert store.damaged
        with pytest.raises(StoreError, match="refusing to write"):
            store.begin_run(manifest=None, model_version=None, pid=1)
        with pytest.raises(StoreError, match="is damaged"):
            refresh(manifest, store, {"workers": 1, "retries": 0})
        assert _state(path.parent) == before


def test_rows_read_while_exporting_map_sqlite_errors_too(corpus: tuple[Path, Path]) -> None:
    _, path = corpus
    with Store(path) as store:
        rows = store.sentence_rows(batch=10)
        assert len(next(rows)) == 10
        page = store.db.execute("PRAGMA page_size").fetchone()[0]
        root = store.db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'sentences'").fetchone()[0]
        for offset in range(root * page, path.stat().st_size - page, page):  # the pages after the root
            _garbage(path, offset)
        store.db.execute("PRAGMA shrink_memory")
        with pytest.raises(StoreError, match="is damaged"):
            list(rows)
