"""``rank --store`` groups documents by their manifest fields and joins a metadata file on manifest ids."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from policylens.cli import app
from policylens.corpus.manifest import load_manifest
from policylens.corpus.store import Fetched, Store
from test_corpus_helpers import contract_objects, entry, write_manifest

LEANS = {"alpha": ("EU", 2023, 0.6), "beta": ("EU", 2024, 0.4), "gamma": ("UK", 2024, -0.5),
         "delta": ("UK", 2025, -0.7)}


@pytest.fixture()
def store(tmp_path: Path) -> Path:
    entries = [entry(doc_id, url=f"https://x.org/{doc_id}.txt", jurisdiction=j, year=y)
               for doc_id, (j, y, _) in LEANS.items()]
    manifest = load_manifest(write_manifest(tmp_path / "m.toml", entries))
    path = tmp_path / "store.db"
    with Store(path) as opened:
        opened.sync_documents(manifest)
        for doc_id, (_, _, lean) in LEANS.items():
            document, tagged, score = contract_objects(f"https://x.org/{doc_id}.txt", lean=lean, n=4)
            sha = opened.objects.put_bytes(doc_id.encode())
            fetched = Fetched(sha256=sha, size=len(doc_id), source=document.source, kind="txt", etag='"e"')
            opened.record_version(doc_id, fetched, document, tagged, score)
    return path


def test_store_documents_group_by_their_manifest_fields(store: Path) -> None:
    result = CliRunner().invoke(app, ["rank", "--store", str(store), "--group-by", "jurisdiction",
                                      "--compare", "EU", "UK", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {d["id"]: d["metadata"]["jurisdiction"] for d in data["documents"]} == {
        k: v[0] for k, v in LEANS.items()}
    groups = {g["value"]: g for g in data["groups"]}
    indices = {d["id"]: d["index"] for d in data["documents"]}
    assert groups["EU"]["index"] == pytest.approx((indices["alpha"] + indices["beta"]) / 2, abs=1e-3)
    assert groups["UK"]["n"] == 2
    assert data["comparisons"][0]["difference"] > 0


def test_a_metadata_file_joins_store_documents_by_manifest_id(store: Path, tmp_path: Path) -> None:
    meta = tmp_path / "meta.tsv"
    meta.write_text("id\tbloc\nalpha\tnorth\nbeta\tnorth\ngamma\tsouth\nomega\tsouth\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["rank", "--store", str(store), "--metadata", str(meta), "--key", "id",
                                      "--group-by", "bloc", "--group-by", "year", "--format", "csv"])
    assert result.exit_code == 0, result.output
    header = result.stdout.splitlines()[0].split(",")
    assert header[-6:] == ["id", "metadata.id", "metadata.jurisdiction", "metadata.year",
                           "metadata.doc_type", "metadata.bloc"]
    stderr = " ".join(result.stderr.split())
    assert "metadata: 3 of 4 documents joined a row" in stderr
    assert "1 documents without a row: delta" in stderr and "1 rows without a document: omega" in stderr
