"""A folder ranked on worker processes or a Dask LocalCluster: same ranking as one process, the
largest documents sent first, and workers that send back only what the ranking needs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from policylens.corpus.ranking import rank_documents
from policylens.rank.analysis import Scored, score_file

CENTRAL = ("A single national authority shall license every artificial intelligence system before it is "
           "placed on the market. All providers must register their systems in one central database. ")
SECTOR = ("Existing financial supervisors will apply their current powers to credit scoring tools. "
          "The medicines regulator keeps its remit over diagnostic software. ")
NEUTRAL = "The programme funds research fellowships at public universities. "


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Five texts of very different lengths (the longest is not first by name)."""
    root = tmp_path_factory.mktemp("laws")
    (root / "a-short.txt").write_text("Central rules\n\n" + CENTRAL, encoding="utf-8")
    (root / "b-long.txt").write_text("Sector rules\n\n" + (SECTOR + NEUTRAL) * 30, encoding="utf-8")
    (root / "c-mixed.txt").write_text("Mixed rules\n\n" + (CENTRAL + SECTOR) * 6, encoding="utf-8")
    (root / "d-neutral.txt").write_text("Funding\n\n" + NEUTRAL * 3, encoding="utf-8")
    (root / "e-longest.md").write_text("# Longest\n\n" + (CENTRAL + NEUTRAL) * 40, encoding="utf-8")
    return root


def _rows(ranking: Any) -> list[tuple[str, float, float, float, int]]:
    return [(d.id, d.score.index, d.score.ci_low, d.score.ci_high, d.score.n_sentences)
            for d in ranking.documents]


@pytest.fixture(scope="module")
def serial(folder: Path) -> Any:
    return rank_documents(folder, workers=1, timeout=0)  # in this process


def test_workers_send_back_the_score_and_sentences_only_when_asked(folder: Path) -> None:
    lean = score_file(folder / "a-short.txt")
    assert isinstance(lean, Scored) and lean.tagged is None and lean.score.n_sentences >= 2
    full = score_file(folder / "a-short.txt", keep_sentences=True)
    assert full.tagged is not None and len(full.tagged.sentences) == lean.score.n_sentences
    assert full.score == lean.score


def test_largest_documents_go_first_and_the_ranking_keeps_its_order(folder: Path, serial: Any) -> None:
    sent: list[Path] = []

    def mapper(engine: Any, fn: Any, items: list[Path]) -> list[Any]:
        sent.extend(items)
        return list(engine.map(fn, items))

    ranking = rank_documents(folder, workers=1, timeout=0, mapper=mapper, keep_sentences=False)
    sizes = [p.stat().st_size for p in sent]
    assert sizes == sorted(sizes, reverse=True) and sent[0].name == "e-longest.md"
    assert _rows(ranking) == _rows(serial)
    assert ranking.tagged == {}  # no report: no sentences were sent back or kept
    assert len(serial.tagged) == 5  # the default keeps them for a report


@pytest.mark.timeout(180)
def test_two_worker_processes_rank_as_one_process_does(folder: Path, serial: Any) -> None:
    parallel = rank_documents(folder, workers=2)
    assert _rows(parallel) == _rows(serial)
    assert {doc: t.sentences for doc, t in parallel.tagged.items()} == \
        {doc: t.sentences for doc, t in serial.tagged.items()}


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    from distributed import LocalCluster

    # threads in this process: policylens is importable there and the pipeline loads once
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as running:
        yield running.scheduler_address


@pytest.mark.timeout(180)
def test_a_dask_local_cluster_ranks_as_one_process_does(folder: Path, serial: Any, cluster: str) -> None:
    sent: list[Any] = []

    def mapper(engine: Any, fn: Any, items: list[Any]) -> list[Any]:
        sent.extend(items)
        return list(engine.map(fn, items))

    ranking = rank_documents(folder, engine="dask", scheduler=cluster, mapper=mapper, keep_sentences=False)
    assert _rows(ranking) == _rows(serial)
    assert all(isinstance(item, Path) for item in sent)  # tasks carry paths, not document bytes
