"""``corpus gc`` and every refresh remove raw files no stored version references, under the lock."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from policylens.cli import app
from policylens.corpus.lock import RefreshLock
from policylens.corpus.manifest import load_manifest
from policylens.corpus.refresh import refresh
from policylens.corpus.store import Fetched, Store
from test_corpus_helpers import CENTRAL, contract_objects, entry, write_manifest

runner = CliRunner()


def _store_with_orphans(tmp_path: Path) -> tuple[Path, dict[str, Path]]:
    """A real store with two stored versions, plus what a killed refresh and a user leave behind."""
    manifest = write_manifest(tmp_path / "corpus.toml",
                              [entry(d, url=f"https://example.org/{d}.pdf") for d in ("kept", "old")])
    path = tmp_path / "s.db"
    with Store(path) as store:
        store.sync_documents(load_manifest(manifest))
        for doc_id in ("kept", "old"):
            data = f"the text of {doc_id}".encode()
            sha = store.objects.put_bytes(data)
            document, tagged, score = contract_objects(doc_id)
            store.record_version(doc_id, Fetched(sha256=sha, size=len(data), source=doc_id, kind="txt"),
                                 document, tagged, score)
        # 'old' leaves the manifest: its version (and raw file) stay, documents are never deleted
        store.sync_documents(load_manifest(write_manifest(tmp_path / "corpus.toml",
                                                          [entry("kept", url="https://example.org/k.pdf")])))
        root = store.objects.root
        files = {
            "kept": store.objects.path(store.current_version("kept").sha256),
            "removed document": store.objects.path(store.current_version("old").sha256),
            "orphan": store.objects.path(store.objects.put_bytes(b"downloaded, never committed" * 100)),
        }
    files["partial"] = root / ".incoming-k1ll3d"
    files["partial"].write_bytes(b"%PDF-1.7 half a down")
    files["stray"] = root / "README.txt"  # not a name the object store gives: never touched
    files["stray"].write_text("notes\n", encoding="utf-8")
    files["odd name"] = root / files["orphan"].parent.name / "not-a-hash"
    files["odd name"].write_bytes(b"x")
    return path, files


def test_gc_removes_only_unreferenced_objects_and_partial_downloads(tmp_path: Path) -> None:
    store, files = _store_with_orphans(tmp_path)
    orphan_bytes = files["orphan"].stat().st_size + files["partial"].stat().st_size

    dry = runner.invoke(app, ["corpus", "gc", "--store", str(store), "--dry-run", "--json"])
    assert dry.exit_code == 0, dry.output
    report = json.loads(dry.stdout)
    assert report == {"objects": 1, "partial": 1, "bytes": orphan_bytes, "dry_run": True,
                      "paths": [str(files["orphan"]), str(files["partial"])]}
    assert all(path.exists() for path in files.values())  # a dry run removes nothing

    done = runner.invoke(app, ["corpus", "gc", "--store", str(store)])
    assert done.exit_code == 0, done.output
    assert "removed 1 unreferenced raw file(s) and 1 partial download(s)" in done.output
    assert {name for name, path in files.items() if path.exists()} == {"kept", "removed document", "stray",
                                                                       "odd name"}
    again = runner.invoke(app, ["corpus", "gc", "--store", str(store), "--json"])
    assert json.loads(again.stdout)["objects"] == 0


def test_gc_waits_for_no_refresh_it_exits_3_while_one_holds_the_lock(tmp_path: Path) -> None:
    store, files = _store_with_orphans(tmp_path)
    with RefreshLock(store):
        result = runner.invoke(app, ["corpus", "gc", "--store", str(store)])
    assert result.exit_code == 3
    assert files["orphan"].exists() and files["partial"].exists()


def test_refresh_collects_what_an_earlier_run_left(tmp_path: Path) -> None:
    store, files = _store_with_orphans(tmp_path)
    (tmp_path / "note.md").write_text("# Note\n\n" + "\n\n".join(CENTRAL) + "\n", encoding="utf-8")
    manifest = write_manifest(tmp_path / "local.toml", [entry("note", path="note.md")])
    report = refresh(manifest, store, {"workers": 1})
    assert report.new == ("note",)
    assert (report.collected.objects, report.collected.partial) == (1, 1)
    assert not files["orphan"].exists() and not files["partial"].exists()
    with Store(store) as opened:
        kept = {opened.objects.path(sha) for sha in opened.referenced_objects()}
        assert {files["kept"], files["removed document"]} < kept
        assert all(path.exists() for path in kept)  # the new document's raw file too
        assert opened.runs()[0].counts["collected"] == 2


def test_gc_needs_an_existing_store(tmp_path: Path) -> None:
    result = runner.invoke(app, ["corpus", "gc", "--store", str(tmp_path / "none.db")])
    assert result.exit_code == 2 and "no store at" in result.output
    assert not (tmp_path / "none.db").exists()
