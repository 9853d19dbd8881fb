"""End-to-end refreshes: loopback server, real PDFs, real SQLite store, real pipeline.

Covers incremental refreshes (new, unchanged via 304, updated, removed, failed),
re-tagging after a model change, a refresh killed by SIGKILL and resumed, two
refreshes at once, exports, ``corpus add`` and the Dask engine on a LocalCluster.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from email.utils import formatdate
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from policylens.cli import app
from policylens.corpus.refresh import refresh
from policylens.corpus.store import Store
from test_corpus_helpers import (
    CENTRAL,
    NEUTRAL,
    SECTORAL,
    PolicyServer,
    Resource,
    entry,
    pdf_bytes,
    write_manifest,
)

runner = CliRunner()
GOOD = {
    "central": pdf_bytes(CENTRAL + NEUTRAL, title="Central act", pages=2),
    "sectoral": pdf_bytes(SECTORAL + NEUTRAL, title="Sector guidance"),
    "mixed": pdf_bytes(CENTRAL[:1] + SECTORAL[:2], title="Mixed strategy"),
}
HTML_PAGE = (b"<!DOCTYPE html><html><head><title>Sector rules</title></head><body><h1>Sector rules</h1>"
             + "".join(f"<p>{s}</p>" for s in SECTORAL).encode() + b"</body></html>")


@pytest.fixture(scope="module")
def server() -> Iterator[PolicyServer]:
    with PolicyServer() as running:
        for name, body in GOOD.items():
            running.resources[f"/{name}.pdf"] = Resource(body)
        running.resources["/page.html"] = Resource(HTML_PAGE, content_type="text/html; charset=utf-8")
        running.resources["/login.pdf"] = Resource(b"<html><body>Sign in to continue</body></html>")
        running.resources["/broken.pdf"] = Resource(b"oops", status=500)
        yield running


def _manifest(folder: Path, server: PolicyServer, names: list[str], *, failing: bool = True) -> Path:
    local = folder / "local.md"
    if not local.exists():
        local.write_text("# Local note\n\n" + "\n\n".join(CENTRAL[1:] + NEUTRAL) + "\n", encoding="utf-8")
    entries = [entry(n, url=server.url(f"/{n}.pdf")) for n in names]
    entries += [entry("page", url=server.url("/page.html")), entry("local", path="local.md")]
    if failing:
        entries += [entry("login", url=server.url("/login.pdf")), entry("gone", url=server.url("/gone.pdf"))]
    return write_manifest(folder / "corpus.toml", entries)


def _settings(**more: object) -> dict[str, object]:
    return {"workers": 1, "retries": 0, "timeout": 5.0, **more}


def test_incremental_refresh_cycle(tmp_path: Path, server: PolicyServer) -> None:
    manifest = _manifest(tmp_path, server, list(GOOD))
    store_path = tmp_path / "s.db"

    first = refresh(manifest, store_path, _settings())
    assert first.new == ("central", "local", "mixed", "page", "sectoral")
    assert dict(first.failed).keys() == {"login", "gone"}
    assert "HTML page" in dict(first.failed)["login"] and "HTTP 404" in dict(first.failed)["gone"]
    assert first.exit_code == 1 and first.pages >= 4

    with Store(store_path) as store:
        scores = {s.extra["id"]: s for s in store.latest_scores()}
        assert set(scores) == set(first.new)
        assert all(-1.0 <= s.index <= 1.0 for s in scores.values())
        assert scores["central"].title == "Framework central"
        tagged = store.tagged("central")
        assert tagged.sentences and tagged.model_version == first.model_version
        assert store.runs()[0].status == "partial"
        assert store.runs()[0].counts["new"] == 5

    # nothing changed: 304s and hashes, nothing processed
    second = refresh(manifest, store_path, _settings())
    assert second.unchanged == first.new and second.new == second.updated == ()
    assert second.processed == 0
    etag = server.resources["/central.pdf"].etag
    assert server.requests_for("/central.pdf")[-1].get("If-None-Match") == etag

    # one document changes, one leaves the manifest
    server.resources["/mixed.pdf"].update(pdf_bytes(CENTRAL, title="Mixed strategy, centralising revision"))
    manifest = _manifest(tmp_path, server, ["central", "mixed"], failing=False)
    third = refresh(manifest, store_path, _settings())
    assert third.updated == ("mixed",)
    assert third.unchanged == ("central", "local", "page")
    assert third.removed == ("gone", "login", "sectoral")  # failing ones left the manifest too
    assert third.failed == () and third.exit_code == 0
    with Store(store_path) as store:
        one = store.db.execute
        assert one("SELECT count(*) FROM versions WHERE document_id = 'mixed'").fetchone()[0] == 2
        assert one("SELECT status FROM documents WHERE id = 'sectoral'").fetchone()[0] == "removed"
        assert "sectoral" not in {s.extra["id"] for s in store.latest_scores()}
    assert [m.id for m in third.moved] == ["mixed"] and third.moved[0].new > third.moved[0].old


def test_model_change_retags_unchanged_documents_from_stored_blocks(tmp_path: Path,
                                                                    server: PolicyServer) -> None:
    manifest = _manifest(tmp_path, server, ["central"], failing=False)
    store_path = tmp_path / "s.db"
    first = refresh(manifest, store_path, _settings())
    # make the store look as if an earlier model had scored everything
    db = sqlite3.connect(store_path)
    with db:
        db.execute("UPDATE scores SET model_version = 'older-model'")
        db.execute("UPDATE sentences SET model_version = 'older-model'")
        db.execute("UPDATE scores SET \"index\" = 0.999")
    db.close()
    requests_before = len(server.requests_for("/central.pdf"))

    second = refresh(manifest, store_path, _settings())
    assert second.rescored == ("central", "local", "page")
    assert second.unchanged == ("central", "local", "page") and second.new == second.updated == ()
    assert len(server.requests_for("/central.pdf")) == requests_before + 1  # one conditional GET, a 304
    assert {m.id for m in second.moved} == {"central", "local", "page"}
    assert all(m.old == pytest.approx(0.999) for m in second.moved)
    with Store(store_path) as store:
        assert store.score_models()["central"] == {"older-model", first.model_version}
        assert store.tagged("central").model_version == first.model_version
    third = refresh(manifest, store_path, _settings())
    assert third.rescored == () and third.processed == 0


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "policylens.cli", *args]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})


def _wait_for(process: subprocess.Popen[str], marker: str, timeout: float = 120.0) -> str:
    """Read the process's stderr until ``marker`` shows up (or it exits, or time runs out)."""
    assert process.stderr is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stderr, selectors.EVENT_READ)
    seen = ""
    deadline = time.monotonic() + timeout
    while marker not in seen and time.monotonic() < deadline and process.poll() is None:
        if selector.select(timeout=0.5):
            seen += process.stderr.readline()
    selector.close()
    return seen


def test_killed_refresh_is_aborted_then_completed_and_second_refresh_is_locked_out(
        tmp_path: Path, server: PolicyServer) -> None:
    manifest = _manifest(tmp_path, server, list(GOOD), failing=False)
    store_path = tmp_path / "s.db"
    first = _cli("corpus", "refresh", str(manifest), "--store", str(store_path), "--workers", "1",
                 env={"POLICYLENS_TEST_PAUSE_AFTER": "2", "POLICYLENS_TEST_PAUSE_SECONDS": "120"})
    try:
        seen = _wait_for(first, "paused for a test")
        assert "paused for a test" in seen, seen

        # a second refresh while the first holds the lock: exit 3, naming the holder
        second = runner.invoke(app, ["corpus", "refresh", str(manifest), "--store", str(store_path)])
        assert second.exit_code == 3
        assert f"pid {first.pid}" in second.output

        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
        for stream in (first.stdout, first.stderr):
            if stream is not None:
                stream.close()

    db = sqlite3.connect(store_path)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("SELECT status FROM runs").fetchall() == [("running",)]
    committed = {r[0] for r in db.execute("SELECT id FROM documents WHERE current_version IS NOT NULL")}
    assert len(committed) == 2
    # every committed document is complete: a version, its blocks, sentences and a score
    for doc_id in committed:
        version = db.execute("SELECT current_version FROM documents WHERE id = ?", (doc_id,)).fetchone()[0]
        for table in ("blocks", "sentences", "scores"):
            assert db.execute(f"SELECT count(*) FROM {table} WHERE version_id = ?", (version,)).fetchone()[0]
    # every document was downloaded before the kill, but only two were committed: three orphans
    referenced = {r[0] for r in db.execute("SELECT sha256 FROM versions")}
    db.close()
    objects = tmp_path / "s.db.objects"
    assert len({p.name for p in objects.rglob("*") if p.is_file()} - referenced) == 3
    collected = runner.invoke(app, ["corpus", "gc", "--store", str(store_path), "--json"])
    assert collected.exit_code == 0, collected.output
    assert json.loads(collected.stdout)["objects"] == 3
    assert {p.name for p in objects.rglob("*") if p.is_file()} == referenced

    resumed = refresh(manifest, store_path, _settings())
    assert resumed.aborted_runs == (1,)
    assert set(resumed.unchanged) == committed
    assert set(resumed.new) == {"central", "sectoral", "mixed", "page", "local"} - committed
    with Store(store_path) as store:
        assert [(r.id, r.status) for r in store.runs()] == [(2, "ok"), (1, "aborted")]
        assert len(store.latest_scores()) == 5


def test_cli_json_status_export_and_partitioned_out(tmp_path: Path, server: PolicyServer) -> None:
    manifest = _manifest(tmp_path, server, ["central", "sectoral"])
    store = str(tmp_path / "s.db")
    result = runner.invoke(app, ["corpus", "refresh", str(manifest), "--store", store, "--json",
                                 "--workers", "2", "--retries", "0", "--out", str(tmp_path / "lake")])
    assert result.exit_code == 1, result.output  # login and gone fail
    report = json.loads(result.stdout)
    assert set(report) == {"new", "updated", "unchanged", "removed", "failed", "moved"}
    assert report["new"] == ["central", "local", "page", "sectoral"]
    assert {f["id"] for f in report["failed"]} == {"gone", "login"}
    assert pd.read_parquet(tmp_path / "lake" / "scores")["document_id"].nunique() == 4

    status = runner.invoke(app, ["corpus", "status", "--store", store, "--json"])
    assert status.exit_code == 0
    data = json.loads(status.stdout)
    assert data["active"] == 6 and data["scored"] == 4 and data["runs"][0]["status"] == "partial"

    out = tmp_path / "sentences.parquet"
    exported = runner.invoke(app, ["corpus", "export", "--store", store, "--format", "parquet",
                                   "--out", str(out)])
    assert exported.exit_code == 0, exported.output
    frame = pd.read_parquet(out)
    assert set(frame["document_id"]) == {"central", "local", "page", "sectoral"}
    assert set(frame["label"]) <= {"centralized", "sector_specific", "neutral"}
    scores = tmp_path / "scores.csv"
    assert runner.invoke(app, ["corpus", "export", "--store", store, "--format", "csv", "--what", "scores",
                               "--out", str(scores)]).exit_code == 0
    assert len(pd.read_csv(scores)) == 4


def test_corpus_add_ingests_a_folder(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "Central Act.pdf").write_bytes(GOOD["central"])
    (folder / "notes.txt").write_text("\n\n".join(SECTORAL), encoding="utf-8")
    (folder / "ignored.bin").write_bytes(b"\x00")
    store = str(tmp_path / "s.db")
    result = runner.invoke(app, ["corpus", "add", str(folder), "--store", store, "--json", "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["new"] == ["central-act", "notes"]
    again = runner.invoke(app, ["corpus", "add", str(folder), "--store", store, "--json", "--workers", "1"])
    assert json.loads(again.stdout)["unchanged"] == ["central-act", "notes"]


def test_corpus_add_finds_every_suffix_the_extractor_reads(tmp_path: Path) -> None:
    from policylens.corpus.add import manifest_for

    for name in ("a.text", "b.markdown", "c.xhtml", "d.md", "skip.csv"):
        (tmp_path / name).write_text("A sentence.\n", encoding="utf-8")
    assert [e.id for e in manifest_for([tmp_path]).documents] == ["a", "b", "c", "d"]


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    from distributed import LocalCluster

    # Two in-process workers are two threads of this process extracting PDFs at once: this
    # segfaulted until extract/ held PDFIUM_LOCK around every PDFium call.
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as running:
        yield running.scheduler_address


def test_dask_engine_matches_local_engine(tmp_path: Path, server: PolicyServer, cluster: str) -> None:
    manifest = _manifest(tmp_path, server, ["central", "sectoral"], failing=False)
    local = refresh(manifest, tmp_path / "local.db", _settings())
    dask = refresh(manifest, tmp_path / "dask.db",
                   {"engine": "dask", "scheduler": cluster, "retries": 0})
    assert dask.new == local.new == ("central", "local", "page", "sectoral")
    with Store(tmp_path / "local.db") as a, Store(tmp_path / "dask.db") as b:
        assert a.latest_index() == pytest.approx(b.latest_index())
        texts = [s.text for s in a.tagged("central").sentences]
        assert texts and texts == [s.text for s in b.tagged("central").sentences]
    # the Dask path must not depend on workers reading our object store: it sends bytes
    assert refresh(manifest, tmp_path / "dask.db", {"engine": "dask", "scheduler": cluster}).processed == 0


def test_refresh_settings_accept_a_fetch_settings_object_not_a_type_error() -> None:
    from policylens.corpus.fetch import FetchSettings
    from policylens.corpus.refresh import RefreshSettings
    from policylens.errors import UsageError

    given = RefreshSettings.resolve({"fetch": FetchSettings(retries=0), "workers": 1})
    assert given.fetch.retries == 0 and given.workers == 1
    flat = RefreshSettings.resolve({"fetch": {"retries": 0}, "timeout": 5.0})
    assert (flat.fetch.retries, flat.fetch.timeout) == (0, 5.0)
    for bad, message in (({"timout": 1}, "unknown refresh setting"), ({"retries": 99}, "retries"),
                         ({"fetch": {"colour": 1}}, "unknown fetch setting")):
        with pytest.raises(UsageError, match=message):
            RefreshSettings.resolve(bad)


_OPENS: dict[str, int] = {}  # path -> times opened, for the paths a test watches


def _count_opens(event: str, args: tuple[object, ...]) -> None:
    if event == "open" and _OPENS and isinstance(args[0], str | os.PathLike):
        name = os.fsdecode(args[0])
        if name in _OPENS:
            _OPENS[name] += 1


@pytest.fixture()
def opens() -> Iterator[dict[str, int]]:
    """Counts how often this process opens the paths put in it (a real audit hook, not a mock)."""
    if not getattr(sys, "_policylens_open_counter", False):
        sys.addaudithook(_count_opens)  # audit hooks cannot be removed; idle while _OPENS is empty
        sys._policylens_open_counter = True  # type: ignore[attr-defined]
    try:
        yield _OPENS
    finally:
        _OPENS.clear()


def test_local_manifest_document_is_read_once_and_its_hash_is_of_the_bytes_processed(
        tmp_path: Path, opens: dict[str, int]) -> None:
    # regression: a local `path` document was read once to hash it and again to copy it for processing
    local = tmp_path / "note.md"
    local.write_text("# Local note\n\n" + "\n\n".join(CENTRAL + NEUTRAL) + "\n", encoding="utf-8")
    manifest = write_manifest(tmp_path / "corpus.toml", [entry("note", path="note.md")])
    opens[str(local.resolve())] = 0
    report = refresh(manifest, tmp_path / "s.db", _settings())
    assert report.new == ("note",) and opens[str(local.resolve())] == 1
    with Store(tmp_path / "s.db") as store:
        sha = store.current_versions()["note"].sha256
        assert store.objects.read(sha) == local.read_bytes()
        assert sha == store.tagged("note").sha256  # the version's hash is the processed document's
    opens[str(local.resolve())] = 0
    again = refresh(manifest, tmp_path / "s.db", _settings())
    assert again.unchanged == ("note",) and opens[str(local.resolve())] == 1
    assert not list((tmp_path / "s.db.objects").rglob(".incoming-*"))  # the unchanged copy was dropped


NOTES = ("# Sector notes\n\n" + "\n\n".join(SECTORAL) + "\n").encode()


@pytest.mark.parametrize("validators", ["etag", "last_modified", "both"])
def test_unchanged_document_stores_new_validators_whichever_the_server_sends(
        tmp_path: Path, server: PolicyServer, validators: str) -> None:
    # regression: with only Last-Modified (no ETag) the new validators of an unchanged document
    # were never stored, so every later refresh downloaded it in full again
    path = f"/validators-{validators}.md"
    resource = server.resources[path] = Resource(NOTES, content_type="text/markdown",
                                                 send_etag=validators != "last_modified",
                                                 send_last_modified=validators != "etag")
    manifest = write_manifest(tmp_path / "corpus.toml", [entry("notes", url=server.url(path))])
    store_path = tmp_path / "s.db"
    assert refresh(manifest, store_path, _settings()).new == ("notes",)

    # the publisher touches the file: new validators, the same bytes, so a full 200 answer
    resource.etag = '"touched"'
    resource.last_modified = formatdate(time.time() + 60, usegmt=True)
    assert refresh(manifest, store_path, _settings()).unchanged == ("notes",)
    assert server.statuses_for(path)[-1] == 200
    with Store(store_path) as store:
        version = store.current_version("notes")
    assert version is not None
    assert version.etag == (resource.etag if validators != "last_modified" else None)
    assert version.last_modified == (resource.last_modified if validators != "etag" else None)

    # and so the next refresh is answered 304, not downloaded again
    assert refresh(manifest, store_path, _settings()).unchanged == ("notes",)
    assert server.statuses_for(path)[-1] == 304


def _committed(store_path: Path) -> int:
    """Documents with a committed version, read through a connection of its own (as another process would)."""
    db = sqlite3.connect(store_path, timeout=30)
    try:
        row = db.execute("SELECT count(*) FROM documents WHERE current_version IS NOT NULL").fetchone()
        return int(row[0])
    finally:
        db.close()


@pytest.mark.parametrize("engine", [{"workers": 1, "process_timeout": 0}, {"workers": 2}],
                         ids=["in-process", "two-worker-processes"])
def test_documents_are_processed_and_committed_while_a_slow_download_is_still_running(
        tmp_path: Path, engine: dict[str, object]) -> None:
    # regression: a refresh fetched every document before processing the first one, so one slow
    # server held back all the work (and a refresh killed during it had committed nothing)
    store_path = tmp_path / "s.db"
    events: list[tuple[str, str]] = []  # what happened, in order
    processed = threading.Event()

    def progress(phase: str, done: int, total: int, doc_id: str) -> None:
        if phase == "process":
            events.append(("processed", doc_id))
            processed.set()

    def hold() -> None:
        """Answer only once a document was processed and committed (or give up after a minute)."""
        events.append(("slow download waiting", ""))
        processed.wait(timeout=60)
        for _ in range(1200):  # a commit can follow its processing by up to BATCH_SECONDS
            if _committed(store_path):
                break
            time.sleep(0.05)
        events.append(("slow download answered", f"{_committed(store_path)} committed"))

    with PolicyServer() as slow:
        for name, body in GOOD.items():
            slow.resources[f"/{name}.pdf"] = Resource(body)
        slow.resources["/slow.pdf"] = Resource(pdf_bytes(SECTORAL, title="Slow"), hold=hold)
        names = [*GOOD, "slow"]
        entries = [entry(n, url=slow.url(f"/{n}.pdf")) for n in names]
        manifest = write_manifest(tmp_path / "corpus.toml", entries)
        # the slow download may take as long as the first documents do (loading the pipeline first)
        report = refresh(manifest, store_path, _settings(**engine, timeout=300.0), progress=progress)

    assert report.new == tuple(sorted(names)) and report.failed == ()
    kinds = [kind for kind, _ in events]
    answered = kinds.index("slow download answered")
    assert "processed" in kinds[:answered], events  # an early document was processed first ...
    assert events[answered][1] != "0 committed", events  # ... and committed, while the download ran
    assert ("processed", "slow") in events[answered:]


def test_processed_documents_are_committed_a_batch_per_transaction(
        tmp_path: Path, server: PolicyServer, monkeypatch: pytest.MonkeyPatch) -> None:
    import policylens.corpus.refresh as refresh_module

    monkeypatch.setattr(refresh_module, "BATCH_SECONDS", 3600.0)  # only a full batch or the end commits
    manifest = _manifest(tmp_path, server, list(GOOD), failing=False)
    statements: list[str] = []
    with Store(tmp_path / "s.db") as store:
        store.db.set_trace_callback(statements.append)
        report = refresh(manifest, store, _settings())
        store.db.set_trace_callback(None)
    assert len(report.new) == 5
    transactions: list[list[str]] = []
    for statement in statements:
        if statement.startswith("BEGIN"):
            transactions.append([])
        elif transactions:
            transactions[-1].append(statement)
    writing = [t for t in transactions if any(s.lstrip().startswith("INSERT INTO versions") for s in t)]
    assert len(writing) == 1  # five documents, one transaction ...
    assert sum(s.lstrip().startswith("INSERT INTO versions") for s in writing[0]) == 5
    assert writing[0].count("SAVEPOINT part") == 5  # ... each document in a savepoint of its own
