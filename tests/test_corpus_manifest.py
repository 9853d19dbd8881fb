"""Manifest parsing and validation: every kind of error names its line, field and reason."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from policylens.cli import app
from policylens.corpus.manifest import load_manifest
from policylens.errors import ManifestError
from test_corpus_helpers import entry, write_manifest

REPO = Path(__file__).resolve().parents[1]


def test_bundled_ai_governance_manifest_is_valid() -> None:
    manifest = load_manifest(REPO / "corpora" / "ai-governance.toml")
    assert manifest.name == "ai-governance"
    assert len(manifest) >= 20
    ids = {d.id for d in manifest.documents}
    for expected in ("eu-ai-act", "us-nist-ai-rmf", "coe-ai-framework-convention", "un-ga-res-78-265"):
        assert expected in ids
    assert all(d.url and d.url.startswith(("http://", "https://")) for d in manifest.documents)


def test_valid_manifest_resolves_paths_and_lines(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text("text", encoding="utf-8")
    path = write_manifest(tmp_path / "m.toml", [entry("a", path="docs/a.txt"),
                                                 entry("b", url="https://example.org/b.pdf")])
    manifest = load_manifest(path)
    a, b = manifest.documents
    assert a.path == (tmp_path / "docs" / "a.txt").resolve()
    assert a.source == str(a.path)
    assert b.suffix == ".pdf"
    text_lines = path.read_text().splitlines()
    assert text_lines[a.line - 1] == "[[document]]"
    assert text_lines[b.line - 1] == "[[document]]" and b.line > a.line
    assert manifest.name == "test"


def _error(tmp_path: Path, entries: list[dict[str, object]]) -> str:
    path = write_manifest(tmp_path / "m.toml", entries)
    with pytest.raises(ManifestError) as info:
        load_manifest(path)
    assert info.value.exit_code == 2
    return str(info.value)


def test_duplicate_id_names_both_lines(tmp_path: Path) -> None:
    message = _error(tmp_path, [entry("a", url="https://x.org/1"), entry("a", url="https://x.org/2")])
    assert "duplicate id 'a'" in message
    assert "m.toml:" in message and "first at line" in message


def test_unknown_field_is_rejected(tmp_path: Path) -> None:
    message = _error(tmp_path, [entry("a", url="https://x.org/1", colour="blue")])
    assert "field 'colour': unknown field" in message


@pytest.mark.parametrize("missing", ["id", "title", "jurisdiction", "year", "doc_type"])
def test_missing_field_is_rejected(tmp_path: Path, missing: str) -> None:
    data = entry("a", url="https://x.org/1")
    del data[missing]
    assert f"field {missing!r}: missing" in _error(tmp_path, [data])


def test_error_names_line_of_the_offending_entry(tmp_path: Path) -> None:
    path = write_manifest(tmp_path / "m.toml", [entry("a", url="https://x.org/1"),
                                                 entry("b", url="ftp://x.org/2")])
    second = [n for n, line in enumerate(path.read_text().splitlines(), 1) if line == "[[document]]"][1]
    with pytest.raises(ManifestError, match=rf"m\.toml:{second}: field 'url'"):
        load_manifest(path)


@pytest.mark.parametrize(("url", "reason"), [
    ("ftp://example.org/a.pdf", "only http and https"),
    ("file:///etc/passwd", "only http and https"),
    ("https://user:secret@example.org/a.pdf", "credentials"),
    ("https:///nohost", "no host"),
    ("https://example.org:99999/a", "malformed"),
])
def test_bad_urls_are_rejected(tmp_path: Path, url: str, reason: str) -> None:
    assert reason in _error(tmp_path, [entry("a", url=url)])


def test_url_and_path_together_or_neither(tmp_path: Path) -> None:
    assert "exactly one" in _error(tmp_path, [entry("a")])
    assert "exactly one" in _error(tmp_path, [entry("a", url="https://x.org/1", path="a.txt")])


@pytest.mark.parametrize(("path", "reason"), [
    ("/etc/passwd", "absolute"),
    ("../outside.txt", "leaves the manifest's folder"),
    ("docs/../../outside.txt", "leaves the manifest's folder"),
])
def test_paths_escaping_the_folder_are_rejected(tmp_path: Path, path: str, reason: str) -> None:
    assert reason in _error(tmp_path, [entry("a", path=path)])


def test_symlink_out_of_the_folder_is_rejected(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("secret", encoding="utf-8")
    folder = tmp_path / "corpus"
    folder.mkdir()
    os.symlink(outside, folder / "link.txt")
    path = write_manifest(folder / "m.toml", [entry("a", path="link.txt")])
    with pytest.raises(ManifestError, match="symlink"):
        load_manifest(path)


@pytest.mark.parametrize("bad_id", ["Upper", "has space", "-leading", "trailing-", "a/b", "../x", "é"])
def test_unsafe_ids_are_rejected(tmp_path: Path, bad_id: str) -> None:
    assert "not a safe slug" in _error(tmp_path, [entry(bad_id, url="https://x.org/1")])


def test_bad_year_and_sha256_are_rejected(tmp_path: Path) -> None:
    assert "field 'year'" in _error(tmp_path, [entry("a", url="https://x.org/1", year=12)])
    assert "field 'sha256'" in _error(tmp_path, [entry("a", url="https://x.org/1", sha256="abc")])


def test_invalid_toml_and_unknown_tables(tmp_path: Path) -> None:
    path = tmp_path / "m.toml"
    path.write_text("[[document]\nid = 1\n", encoding="utf-8")
    with pytest.raises(ManifestError, match="not valid TOML"):
        load_manifest(path)
    path.write_text('[settings]\nx = "y"\n', encoding="utf-8")
    with pytest.raises(ManifestError, match="unknown top-level key 'settings'"):
        load_manifest(path)
    path.write_text('[corpus]\nowner = "me"\n', encoding="utf-8")
    with pytest.raises(ManifestError, match="unknown field 'owner'"):
        load_manifest(path)


def test_refresh_with_bad_manifest_exits_2_with_one_line(tmp_path: Path) -> None:
    path = write_manifest(tmp_path / "m.toml", [entry("a", url="gopher://x.org/1")])
    result = CliRunner().invoke(app, ["corpus", "refresh", str(path), "--store", str(tmp_path / "s.db")])
    assert result.exit_code == 2
    assert "only http and https" in result.output
    assert "Traceback" not in result.output


def test_status_and_export_of_a_missing_store_exit_2(tmp_path: Path) -> None:
    missing = str(tmp_path / "none.db")
    status = CliRunner().invoke(app, ["corpus", "status", "--store", missing])
    assert status.exit_code == 2 and "no store at" in status.output
    exported = CliRunner().invoke(app, ["corpus", "export", "--store", missing, "--out", str(tmp_path / "x")])
    assert exported.exit_code == 2
    assert not (tmp_path / "none.db").exists()  # reading commands never create a store


def test_scope_field_is_checked_and_overrides_the_scope_model(tmp_path: Path) -> None:
    from policylens.corpus.process import process_file

    message = _error(tmp_path, [entry("a", url="https://x.org/1", scope="sectoral")])
    assert "field 'scope'" in message and "horizontal, targeted, none" in message
    (tmp_path / "docs").mkdir()
    text = ("Every provider of an AI system shall keep a log of its automated decisions.\n\n"
            "The board publishes an annual report.\n")
    (tmp_path / "docs" / "a.txt").write_text(text, encoding="utf-8")
    path = write_manifest(tmp_path / "m.toml", [entry("a", path="docs/a.txt", scope="targeted"),
                                                entry("b", path="docs/a.txt")])
    a, b = load_manifest(path).documents
    assert a.scope == "targeted" and b.scope is None and a.to_dict()["scope"] == "targeted"
    _, tagged, score = process_file(a.path, source=a.source, title=a.title, scope=a.scope)
    assert tagged.scope.label == "targeted" and tagged.scope.overridden
    assert score.to_dict()["scope"]["overridden"] is True
    _, free, _ = process_file(b.path, source=b.source, title=b.title, scope=b.scope)
    assert not free.scope.overridden
