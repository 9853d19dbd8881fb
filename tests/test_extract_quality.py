"""Quality verdicts: an intentionally blank page is not a missing text layer."""

from __future__ import annotations

from pathlib import Path

import pytest

from extract_samples import paragraph
from pdf_factory import write_pdf
from policylens.extract import extract


@pytest.mark.parametrize("engine", ["auto", "plumber"])
def test_a_blank_page_is_not_reported_as_missing_text(tmp_path: Path, engine: str) -> None:
    path = write_pdf(tmp_path / "blank_inside.pdf", [[paragraph(0, 4)], [], [paragraph(4, 4)]],
                     page_numbers=False)
    document = extract(path, {"pdf_engine": engine})
    assert document.n_pages == 3
    assert document.quality.empty_pages == ()
    assert document.quality.issues == ()
    assert document.quality.verdict == "good"
