"""PDFs extracted from many threads at once give exactly what one thread gives (PDFium is not
thread-safe: without the process-wide lock this crashed or mixed up pages)."""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from extract_samples import paragraph
from pdf_factory import write_pdf, write_table_pdf, write_tall_metrics_pdf
from policylens.extract import ExtractSettings, extract

THREADS = 6
ROUNDS = 8


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Path, ExtractSettings]]:
    tmp = tmp_path_factory.mktemp("threads")
    long_pages = [[f"# Article {i + 1}", paragraph(i * 7, 7), paragraph(i * 7 + 3, 5)] for i in range(12)]
    return [
        (write_pdf(tmp / "long.pdf", long_pages, header="Model Rules - Draft", footer="Office of Examples",
                   title="Model Rules"), ExtractSettings()),
        (write_pdf(tmp / "columns.pdf", long_pages[:6], columns=2, header="Two Columns"), ExtractSettings()),
        (write_table_pdf(tmp / "table.pdf", [paragraph(0, 3)],
                         [["Sector", "Authority", "Duty"], ["Health", "Health regulator", "Audit"],
                          ["Finance", "Central bank", "Report"]], [paragraph(3, 3)]),
         ExtractSettings(tables=True)),
        (write_tall_metrics_pdf(tmp / "tall.pdf", [[paragraph(5, 5)], [paragraph(10, 5)]]),
         ExtractSettings()),
        (write_pdf(tmp / "plumber.pdf", long_pages[:3]), ExtractSettings(pdf_engine="plumber")),
    ]


def _extract(item: tuple[Path, ExtractSettings]) -> dict[str, Any]:
    path, settings = item
    return extract(path, settings).to_dict()


def test_pdfium_is_thread_safe_concurrent_extraction_equals_sequential(
        pdfs: list[tuple[Path, ExtractSettings]]) -> None:
    expected = [_extract(item) for item in pdfs]
    assert all(d["blocks"] for d in expected)
    jobs = list(itertools.chain.from_iterable(itertools.repeat(pdfs, ROUNDS)))
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        results = list(pool.map(_extract, jobs))
    for index, result in enumerate(results):
        assert result == expected[index % len(pdfs)], jobs[index][0].name
