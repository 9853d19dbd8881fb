"""The per-document time limit in ``corpus refresh``: a stalled document fails, the rest are stored.

The limit comes from the shared engine (``POLICYLENS_DOC_TIMEOUT``, default 600 s);
the stall is the reader's test hook (``POLICYLENS_TEST_STALL``), a parse that never ends.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from policylens.corpus.refresh import refresh
from policylens.corpus.store import Store
from test_corpus_helpers import CENTRAL, NEUTRAL, SECTORAL, entry, write_manifest


@pytest.mark.timeout(180)
@pytest.mark.parametrize("workers", [1, 2])
def test_refresh_stops_a_stalled_document_and_stores_the_others(
    tmp_path: Path, workers: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # regression: a document whose parse never ended held the refresh (and the store's lock) for ever
    monkeypatch.setenv("POLICYLENS_DOC_TIMEOUT", "3")
    monkeypatch.setenv("POLICYLENS_TEST_STALL", "STALL-HERE")
    (tmp_path / "stuck.md").write_text("# Stuck\n\nSTALL-HERE " + " ".join(CENTRAL) + "\n", encoding="utf-8")
    (tmp_path / "central.md").write_text(
        "# Central\n\n" + " ".join(CENTRAL + NEUTRAL) + "\n", encoding="utf-8"
    )
    (tmp_path / "sector.md").write_text("# Sector\n\n" + " ".join(SECTORAL) + "\n", encoding="utf-8")
    manifest = write_manifest(
        tmp_path / "corpus.toml", [entry(n, path=f"{n}.md") for n in ("central", "sector", "stuck")]
    )
    store_path = tmp_path / "s.db"

    report = refresh(manifest, store_path, {"workers": workers})
    assert report.new == ("central", "sector")
    failed = dict(report.failed)
    assert list(failed) == ["stuck"]
    assert "time limit of 3 s" in failed["stuck"]
    with Store(store_path) as store:
        assert {s.extra["id"] for s in store.latest_scores()} == {"central", "sector"}
        assert store.runs()[0].status == "partial"

    # the lock was released and the stuck document is tried again next time, now within its limit
    monkeypatch.delenv("POLICYLENS_TEST_STALL")
    again = refresh(manifest, store_path, {"workers": workers})
    assert again.new == ("stuck",) and again.failed == ()


@pytest.mark.timeout(180)
def test_refresh_process_timeout_option_sets_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from policylens.cli import app

    monkeypatch.setenv("POLICYLENS_DOC_TIMEOUT", "600")  # the option, not the environment, must decide
    monkeypatch.setenv("POLICYLENS_TEST_STALL", "STALL-HERE")
    (tmp_path / "stuck.md").write_text("# Stuck\n\nSTALL-HERE " + " ".join(CENTRAL) + "\n", encoding="utf-8")
    (tmp_path / "sector.md").write_text("# Sector\n\n" + " ".join(SECTORAL) + "\n", encoding="utf-8")
    manifest = write_manifest(
        tmp_path / "corpus.toml", [entry(n, path=f"{n}.md") for n in ("sector", "stuck")]
    )
    result = CliRunner().invoke(
        app,
        [
            "corpus",
            "refresh",
            str(manifest),
            "--store",
            str(tmp_path / "s.db"),
            "--workers",
            "2",
            "--process-timeout",
            "3",
            "--json",
        ],
    )
    assert result.exit_code == 1, result.output
    assert "time limit of 3 s" in result.stdout
    bad = CliRunner().invoke(
        app,
        [
            "corpus",
            "refresh",
            str(manifest),
            "--store",
            str(tmp_path / "t.db"),
            "--engine",
            "dask",
            "--process-timeout",
            "3",
        ],
    )
    assert bad.exit_code == 2 and "local engine only" in bad.output
