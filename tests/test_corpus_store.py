"""The corpus store on a real SQLite file: migrations, writes, reads, exports, the lock."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from policylens.corpus.export import MARKER, columns, export, export_partitioned
from policylens.corpus.lock import RefreshLock
from policylens.corpus.manifest import load_manifest
from policylens.corpus.migrations import MIGRATIONS, migrate
from policylens.corpus.store import Fetched, Store
from policylens.errors import LockHeld, StoreError, UsageError
from test_corpus_helpers import contract_objects, entry, write_manifest

# The schema the migrations must produce: table -> columns in order.
EXPECTED_SCHEMA = {
    "migrations": ["name", "applied_at"],
    "runs": ["id", "started_at", "ended_at", "status", "pid", "manifest", "model_version", "counts",
             "errors"],
    "documents": ["id", "title", "jurisdiction", "year", "doc_type", "url", "path", "manifest", "status",
                  "added_at", "removed_at", "current_version"],
    "versions": ["id", "document_id", "sha256", "fetched_at", "etag", "last_modified", "size", "source",
                 "content_type", "kind", "title", "n_pages", "quality", "metadata", "run_id"],
    "blocks": ["version_id", "position", "page", "kind", "section", "text"],
    "sentences": ["version_id", "model_version", "sentence_id", "text", "label", "p_centralized",
                  "p_sector_specific", "p_neutral", "cues", "facets", "page", "section", "role", "role_probs",
                  "content"],
    "scores": ["id", "version_id", "document_id", "model_version", "method", "index", "ci_low", "ci_high",
               "n_sentences", "score", "created_at", "run_id", "scope", "scope_overridden"],
    "document_facets": ["score_id", "family", "label", "prob", "assigned", "mentions", "evidence",
                        "model_version"],
}
EXPECTED_INDEXES = {"versions_document", "scores_document", "sentences_label", "runs_status",
                    "sentences_role", "document_facets_label"}


def _schema(db: sqlite3.Connection) -> dict[str, list[str]]:
    tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    return {t: [c[1] for c in db.execute(f'PRAGMA table_info("{t}")')] for t in tables}


def _sql(db: sqlite3.Connection) -> list[tuple[str, str]]:
    return sorted(tuple(r) for r in db.execute("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL"))


def test_fresh_store_has_the_expected_schema_and_pragmas(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        assert _schema(store.db) == EXPECTED_SCHEMA
        indexes = {r[0] for r in store.db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert indexes >= EXPECTED_INDEXES
        assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert store.db.execute("PRAGMA busy_timeout").fetchone()[0] > 0
        names = [r[0] for r in store.db.execute("SELECT name FROM migrations ORDER BY rowid")]
        assert names == [name for name, _ in MIGRATIONS]


def test_scope_role_migration_keeps_tagged_results_of_a_v1_store(tmp_path: Path) -> None:
    old = tmp_path / "v1.db"
    db = sqlite3.connect(old, isolation_level=None)
    assert migrate(db, upto=2) == ["m001_initial", "m002_indexes"]
    db.execute("INSERT INTO documents (id, title, added_at, status) "
               "VALUES ('act', 'An Act', '2024-01-01', 'active')")
    db.execute("INSERT INTO versions (id, document_id, sha256, fetched_at, size, source, kind) "
               "VALUES (1, 'act', 'ab', '2024-01-01', 3, 'act.txt', 'txt')")
    db.execute("UPDATE documents SET current_version = 1 WHERE id = 'act'")
    db.execute("INSERT INTO sentences (version_id, model_version, sentence_id, text, label, p_centralized, "
               "p_sector_specific, p_neutral) VALUES (1, 'v1model', 0, 'A board is set up.', 'centralized', "
               "0.7, 0.1, 0.2)")
    score = {"doc": "act.txt", "title": "An Act", "index": 0.5, "ci_low": 0.1, "ci_high": 0.9,
             "n_sentences": 1, "counts": {"centralized": 1}, "facets": {}, "model_version": "v1model"}
    db.execute("INSERT INTO scores (version_id, document_id, model_version, method, \"index\", ci_low, "
               "ci_high, n_sentences, score, created_at) VALUES (1, 'act', 'v1model', 'aggregate', 0.5, 0.1, "
               "0.9, 1, ?, '2024-01-01')", (json.dumps(score),))
    db.close()
    with Store(old) as migrated:
        names = [r[0] for r in migrated.db.execute("SELECT name FROM migrations ORDER BY rowid")]
        assert names[2] == "m003_scope_role" and names == [name for name, _ in MIGRATIONS]
        tagged = migrated.tagged("act")
        assert [(s.text, s.label, s.role) for s in tagged.sentences] == [("A board is set up.", "centralized",
                                                                          "other")]
        assert tagged.sentences[0].probs["centralized"] == 0.7
        assert tagged.scope.label == "none" and not tagged.scope.overridden
        [kept] = migrated.latest_scores()
        assert kept.index == 0.5 and kept.model_version == "v1model"


def test_old_store_is_migrated_to_the_same_schema_keeping_its_data(tmp_path: Path) -> None:
    old = tmp_path / "old.db"
    db = sqlite3.connect(old, isolation_level=None)
    assert migrate(db, upto=1) == ["m001_initial"]
    db.execute("INSERT INTO documents (id, title, added_at) VALUES ('kept', 'Kept', '2024-01-01')")
    db.close()
    with Store(old) as migrated, Store(tmp_path / "fresh.db") as fresh:
        assert _sql(migrated.db) == _sql(fresh.db)
        assert migrated.db.execute("SELECT title FROM documents WHERE id = 'kept'").fetchone()[0] == "Kept"
    with Store(old) as again:  # reopening applies nothing twice
        assert again.db.execute("SELECT count(*) FROM migrations").fetchone()[0] == len(MIGRATIONS)


def test_store_from_a_newer_policylens_is_refused(tmp_path: Path) -> None:
    Store(tmp_path / "s.db").close()
    db = sqlite3.connect(tmp_path / "s.db")
    db.execute("INSERT INTO migrations VALUES ('m999_future', 'x')")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="newer policylens"):
        Store(tmp_path / "s.db")


def test_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "s.db").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="cannot open the store"):
        Store(tmp_path / "s.db")


def _open_handles(path: Path) -> int:
    fds = Path("/proc/self/fd")
    if not fds.is_dir():
        pytest.skip("needs /proc/self/fd")
    return sum(1 for fd in fds.iterdir() if str(fd.resolve()).startswith(str(path)))


def test_refused_store_is_not_left_open(tmp_path: Path) -> None:
    Store(tmp_path / "s.db").close()
    db = sqlite3.connect(tmp_path / "s.db")
    db.execute("INSERT INTO migrations VALUES ('m999_future', 'x')")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="newer policylens") as refused:
        Store(tmp_path / "s.db")
    # the traceback keeps the half-built Store alive: its connection must already be closed
    assert refused.value is not None
    assert _open_handles(tmp_path / "s.db") == 0
    (tmp_path / "bad.db").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="cannot open the store"):
        Store(tmp_path / "bad.db")
    assert _open_handles(tmp_path / "bad.db") == 0


def _fetched(store: Store, data: bytes, source: str) -> Fetched:
    sha = store.objects.put_bytes(data)
    return Fetched(sha256=sha, size=len(data), source=source, kind="txt", etag='"e1"')


def _manifest(tmp_path: Path, ids: list[str]):
    return load_manifest(write_manifest(tmp_path / "m.toml", [entry(i, url=f"https://x.org/{i}.txt")
                                                              for i in ids]))


def test_record_version_then_read_back(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        store.sync_documents(_manifest(tmp_path, ["a", "b"]))
        document, tagged, score = contract_objects("https://x.org/a.txt", lean=0.4)
        fetched = _fetched(store, b"content a", "https://x.org/a.txt")
        store.record_version("a", fetched, document, tagged, score)
        assert store.objects.read(fetched.sha256) == b"content a"
        assert store.objects.path(fetched.sha256).parent.name == fetched.sha256[:2]

        [latest] = store.latest_scores()  # b has no version yet
        assert latest.index == pytest.approx(0.4)
        assert latest.extra["id"] == "a" and latest.extra["jurisdiction"] == "XX"
        back = store.tagged("a")
        assert [s.text for s in back.sentences] == [s.text for s in tagged.sentences]
        first = tagged.sentences[0]
        assert back.sentences[0].probs["centralized"] == pytest.approx(first.probs["centralized"])
        assert back.sentences[0].facets == tagged.sentences[0].facets
        assert back.sentences[0].cues[0].text == "authority"
        assert back.model_version == "test-model-1"
        rebuilt = store.document("a")
        assert rebuilt.blocks == document.blocks
        assert rebuilt.title == "Framework a"  # the manifest's title
        assert store.current_version("a").etag == '"e1"'
        with pytest.raises(StoreError, match="no stored content yet"):
            store.tagged("b")
        with pytest.raises(StoreError, match="no document 'zzz'"):
            store.tagged("zzz")


def test_block_kinds_are_checked_against_block_kinds_when_written_and_read(tmp_path: Path) -> None:
    # regression: BLOCK_KINDS was defined but nothing checked it, so any string came back as a Block kind
    with Store(tmp_path / "s.db") as store:
        store.sync_documents(_manifest(tmp_path, ["a", "b"]))
        document, tagged, score = contract_objects("https://x.org/a.txt")
        odd = replace(document, blocks=(*document.blocks, replace(document.blocks[0], kind="sidebar")))
        fetched = _fetched(store, b"content a", "https://x.org/a.txt")
        with pytest.raises(StoreError, match="unknown block kind 'sidebar'"):
            store.record_version("a", fetched, odd, tagged, score)
        assert store.db.execute("SELECT count(*) FROM versions").fetchone()[0] == 0
        store.record_version("b", _fetched(store, b"b", "https://x.org/b.txt"), document, tagged, score)
    raw = sqlite3.connect(tmp_path / "s.db")  # another tool, or a damaged file, wrote a bad kind
    with raw:
        raw.execute("UPDATE blocks SET kind = 'marginalia' WHERE position = 1")
    raw.close()
    with Store(tmp_path / "s.db") as store, \
            pytest.raises(StoreError, match=r"stored block 1 of 'b' .* unknown block kind 'marginalia'"):
        store.document("b")


def test_failed_write_leaves_nothing_behind(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        store.sync_documents(_manifest(tmp_path, ["a"]))
        document, tagged, score = contract_objects("https://x.org/a.txt")
        broken = type(score)(**{**{f: getattr(score, f) for f in score.__dataclass_fields__},
                                "index": float("nan")})
        # NOT NULL 'index' receives NaN -> NULL in SQLite: the insert fails after the version row
        with pytest.raises(StoreError, match="NOT NULL constraint failed"):
            store.record_version("a", _fetched(store, b"x", "u"), document, tagged, broken)
        assert store.db.execute("SELECT count(*) FROM versions").fetchone()[0] == 0
        assert store.db.execute("SELECT count(*) FROM blocks").fetchone()[0] == 0
        assert store.db.execute("SELECT count(*) FROM sentences").fetchone()[0] == 0
        assert store.current_version("a") is None


def test_a_failed_write_in_a_batch_undoes_that_document_alone(tmp_path: Path) -> None:
    # a refresh commits a batch of documents in one transaction, each in a savepoint of its own
    with Store(tmp_path / "s.db") as store:
        store.sync_documents(_manifest(tmp_path, ["a", "b", "c"]))
        document, tagged, score = contract_objects("https://x.org/a.txt")
        broken = replace(score, index=float("nan"))  # NOT NULL 'index' gets NULL: fails after 2 inserts
        with store.transaction():
            store.record_version("a", _fetched(store, b"a", "a"), document, tagged, score)
            with pytest.raises(StoreError, match="NOT NULL constraint failed"):
                store.record_version("b", _fetched(store, b"b", "b"), document, tagged, broken)
            store.record_version("c", _fetched(store, b"c", "c"), document, tagged, score)
            assert store.db.in_transaction  # still the batch's transaction: nothing committed yet
        assert not store.db.in_transaction
        one = store.db.execute
        assert [r[0] for r in one("SELECT document_id FROM versions ORDER BY document_id")] == ["a", "c"]
        assert store.current_version("b") is None
        assert one("SELECT count(DISTINCT version_id) FROM blocks").fetchone()[0] == 2

        with pytest.raises(RuntimeError), store.transaction():  # the batch itself fails: all of it goes
            store.record_version("b", _fetched(store, b"b2", "b"), document, tagged, score)
            raise RuntimeError("killed mid-batch")
        assert store.current_version("b") is None


def test_new_model_score_and_removed_documents(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        store.sync_documents(_manifest(tmp_path, ["a", "b"]))
        for doc_id in ("a", "b"):
            document, tagged, score = contract_objects(f"https://x.org/{doc_id}.txt", lean=0.2)
            store.record_version(doc_id, _fetched(store, doc_id.encode(), doc_id), document, tagged, score)
        _, tagged2, score2 = contract_objects("https://x.org/a.txt", lean=-0.3, model="test-model-2")
        store.record_score("a", tagged2, score2)
        assert store.score_models()["a"] == {"test-model-1", "test-model-2"}
        assert store.tagged("a").model_version == "test-model-2"
        assert store.latest_index() == {"a": pytest.approx(-0.3), "b": pytest.approx(0.2)}

        removed = store.sync_documents(_manifest(tmp_path, ["a"]))
        assert removed == ["b"]
        assert [s.extra["id"] for s in store.latest_scores()] == ["a"]
        status = store.status()
        assert (status.active, status.removed, status.versions) == (1, 1, 2)
        assert status.model_versions == {"test-model-2": 1}
        # removed, never deleted: it comes back with its history when listed again
        assert store.sync_documents(_manifest(tmp_path, ["a", "b"])) == []
        assert store.current_version("b") is not None


def test_stale_running_runs_are_marked_aborted(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        stale = store.begin_run(manifest="m", model_version="v", pid=1)
        assert store.abort_stale_runs() == [stale]
        done = store.begin_run(manifest="m", model_version="v", pid=2)
        store.finish_run(done, status="ok", counts={"new": 1}, errors=[])
        runs = store.runs()
        assert [(r.id, r.status) for r in runs] == [(done, "ok"), (stale, "aborted")]
        assert runs[0].counts == {"new": 1} and runs[1].ended_at is not None


@pytest.fixture()
def filled_store(tmp_path: Path) -> Store:
    store = Store(tmp_path / "filled.db")
    store.sync_documents(_manifest(tmp_path, ["a", "b", "c"]))
    for doc_id, lean in (("a", 0.5), ("b", -0.5), ("c", 0.1)):
        document, tagged, score = contract_objects(f"https://x.org/{doc_id}.txt", lean=lean, n=4)
        store.record_version(doc_id, _fetched(store, doc_id.encode(), doc_id), document, tagged, score)
    yield store
    store.close()


@pytest.mark.parametrize("what", ["sentences", "scores"])
def test_export_parquet_reads_back_with_pandas(filled_store: Store, tmp_path: Path, what: str) -> None:
    out = tmp_path / f"{what}.parquet"
    rows = export(filled_store, out, fmt="parquet", what=what)
    frame = pd.read_parquet(out)
    assert len(frame) == rows == (12 if what == "sentences" else 3)
    assert list(frame.columns) == columns(what)
    if what == "scores":
        assert dict(zip(frame["document_id"], frame["index"], strict=True)) == pytest.approx(
            {"a": 0.5, "b": -0.5, "c": 0.1})
        assert json.loads(frame["counts"][0])["centralized"] == 4
    else:
        assert set(frame["label"]) == {"centralized", "sector_specific"}
        assert json.loads(frame["facets"][0])["sector"] == ["finance"]


def test_export_csv_and_jsonl(filled_store: Store, tmp_path: Path) -> None:
    assert export(filled_store, tmp_path / "s.csv", fmt="csv", what="scores") == 3
    assert list(pd.read_csv(tmp_path / "s.csv")["document_id"]) == ["a", "b", "c"]
    assert export(filled_store, tmp_path / "s.jsonl", fmt="jsonl") == 12
    lines = (tmp_path / "s.jsonl").read_text().splitlines()
    assert json.loads(lines[0])["document_id"] == "a" and len(lines) == 12


def test_partitioned_export_replaces_only_its_own_folders(filled_store: Store, tmp_path: Path) -> None:
    out = tmp_path / "lake"
    counts = export_partitioned(filled_store, out)
    assert counts == {"sentences": 12, "scores": 3}
    assert (out / "sentences" / "jurisdiction=XX").is_dir() and (out / "sentences" / MARKER).is_file()
    frame = pd.read_parquet(out / "scores")
    assert sorted(frame["document_id"]) == ["a", "b", "c"]
    assert export_partitioned(filled_store, out) == counts  # a second export replaces the first
    assert len(pd.read_parquet(out / "sentences")) == 12
    foreign = tmp_path / "mine"
    foreign.mkdir()
    with pytest.raises(UsageError, match="was not written by"):
        export(filled_store, foreign, partition_by="jurisdiction")
    with pytest.raises(UsageError, match="not a column"):
        export(filled_store, tmp_path / "x", partition_by="colour")


def test_lock_is_exclusive_and_names_the_holder(tmp_path: Path) -> None:
    import os

    with RefreshLock(tmp_path / "s.db"):
        with pytest.raises(LockHeld, match=f"pid {os.getpid()}") as info:
            RefreshLock(tmp_path / "s.db").acquire()
        assert info.value.exit_code == 3
    with RefreshLock(tmp_path / "s.db"):  # released: free again
        pass


def test_lock_that_cannot_be_created_is_a_usage_error_not_a_bare_oserror(tmp_path: Path) -> None:
    # regression: a missing or unwritable folder raised OSError (a traceback, or exit 1 from the CLI)
    with pytest.raises(UsageError, match="cannot create the refresh lock") as missing:
        RefreshLock(tmp_path / "no-such-folder" / "s.db").acquire()
    assert missing.value.exit_code == 2 and not isinstance(missing.value, LockHeld)
    (tmp_path / "s.db.lock").mkdir()  # the lock path is taken by a folder
    with pytest.raises(UsageError, match=r"s\.db\.lock"):
        RefreshLock(tmp_path / "s.db").acquire()


def test_refresh_cli_exits_2_when_the_lock_cannot_be_created(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from policylens.cli import app

    (tmp_path / "note.md").write_text("# Note\n\nOne authority licenses every system.\n", encoding="utf-8")
    manifest = write_manifest(tmp_path / "corpus.toml", [entry("note", path="note.md")])
    (tmp_path / "s.db.lock").mkdir()
    result = CliRunner().invoke(app, ["corpus", "refresh", str(manifest), "--store", str(tmp_path / "s.db")])
    assert result.exit_code == 2, result.output
    assert "cannot create the refresh lock" in result.output and "Traceback" not in result.output


def test_rank_store_ranks_and_reports_from_stored_sentences(filled_store: Store, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from policylens.cli import app

    report = tmp_path / "report.html"
    result = CliRunner().invoke(app, ["rank", "--store", str(filled_store.path), "--format", "json",
                                      "--report", str(report)])
    assert result.exit_code == 0, result.stderr
    ranked = json.loads(result.stdout)
    assert [r["rank"] for r in ranked] == [1, 2, 3]
    assert [r["index"] for r in ranked] == pytest.approx([0.5, 0.1, -0.5])
    html = report.read_text(encoding="utf-8")
    # every stored sentence of the most centralized document made it into the report
    for sentence in filled_store.tagged("a").sentences:
        assert sentence.text in html


def test_paths_with_markup_brackets_print_instead_of_a_markup_error(filled_store: Store,
                                                                    tmp_path: Path) -> None:
    # "[/]" in a store, export or report path raised rich's MarkupError after the work was done
    from typer.testing import CliRunner

    from policylens.cli import app

    folder = tmp_path / "a[/]b"  # two folders, "a[" and "]b": the path reads "...a[/]b/..."
    folder.mkdir(parents=True)
    store = folder / "s.db"
    copy = sqlite3.connect(store)  # the backup API: the fixture's rows may still be in its WAL
    filled_store.db.backup(copy)
    copy.close()
    runner = CliRunner()
    status = runner.invoke(app, ["corpus", "status", "--store", str(store)])
    assert status.exit_code == 0, status.output
    assert f"store {store}: 3 active documents" in status.stdout
    export = runner.invoke(app, ["corpus", "export", "--store", str(store), "--what", "scores",
                                 "--format", "csv", "--out", str(folder / "scores.csv")])
    assert export.exit_code == 0, export.output
    assert f"wrote 3 scores rows to {folder / 'scores.csv'}" in export.stderr
    report = runner.invoke(app, ["rank", "--store", str(store), "--report", str(folder / "r.html")])
    assert report.exit_code == 0, report.output
    assert f"report written to {folder / 'r.html'}" in report.stderr
