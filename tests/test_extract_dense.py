"""Dense PDFs: pages of tens of thousands of one-character text objects.

Row grouping and merging used to scan every fragment already kept for each new
one, so a page of 40,000 scattered letters took minutes. The speed itself is
measured by ``bench/dense.py`` (no timed assertions here); the tests below check
that the sweep reads such pages correctly, and the scattered page would run into
the test timeout with the old quadratic scan (about 10 minutes for it).
"""

from __future__ import annotations

import copy
import random
import re
from collections import Counter
from pathlib import Path

import pypdfium2 as pdfium
import pytest

from extract_samples import paragraph
from pdf_factory import write_dense_pdf
from policylens.extract import extract
from policylens.extract.layout import _EMPTY_PARENS, _merge_row, is_note_reference
from policylens.extract.lines import GUTTER_EMS, Line


def _rows_of(text: str, width: int = 110) -> list[str]:
    rows, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            rows.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return [*rows, line]


def test_dense_page_of_single_characters_reads_every_row_in_order(tmp_path: Path) -> None:
    rows = _rows_of(paragraph(0, 110))  # about 10,000 characters, each its own text object
    document = extract(write_dense_pdf(tmp_path / "dense.pdf", rows))
    text = " ".join(block.text for block in document.blocks)
    assert sum(len(r) - r.count(" ") for r in rows) > 9000
    assert text.split() == " ".join(rows).split()


@pytest.mark.timeout(90)
def test_scattered_letters_chained_into_one_row_are_all_kept(tmp_path: Path) -> None:
    # regression: 30,000 letters at random places chain into one row, and merging that
    # row compared each fragment with every one kept before it (quadratic)
    path = write_dense_pdf(tmp_path / "scatter.pdf", scatter=30_000)
    document = extract(path)
    pdf = pdfium.PdfDocument(str(path))
    try:
        raw = pdf[0].get_textpage().get_text_range()
    finally:
        pdf.close()
    letters = Counter(re.findall(r"[a-z]", " ".join(block.text for block in document.blocks)))
    assert letters == Counter(re.findall(r"[a-z]", raw))
    assert sum(letters.values()) == 30_000


def _scan_merge_row(row: list[Line]) -> list[Line]:
    """The plain quadratic merge the sweep replaced: the reference its output must equal."""
    if len(row) == 1:
        return row
    row.sort(key=lambda ln: ln.x0)
    kept: list[Line] = []
    dropped_reference = False
    for line in row:
        host = next((k for k in kept if k.x0 <= line.x0 and line.x1 <= k.x1 + 1), None)
        if host is not None and line.size < 0.8 * host.size and len(line.text) <= 4:
            host.text = _EMPTY_PARENS.sub("", host.text)
            continue
        if kept:
            prev = kept[-1]
            gap = line.x0 - prev.x1
            if is_note_reference(prev, line):
                dropped_reference = True
                continue
            size = max(prev.size, line.size, 1.0)
            if -0.2 * size <= gap < GUTTER_EMS * size and prev.column == line.column:
                joiner = "" if gap < 0.12 * size and not dropped_reference else " "
                dropped_reference = False
                if (line.marker_small and gap < 0.6 * size and " " in line.text
                        and not prev.text.endswith(("(", "["))):
                    line.text, line.marker_small, joiner = line.text.split(" ", 1)[1], False, " "
                main = prev if len(prev.text) >= len(line.text) else line
                kept[-1] = Line(page=prev.page, x0=prev.x0, x1=max(prev.x1, line.x1),
                                top=min(prev.top, line.top), bottom=max(prev.bottom, line.bottom),
                                size=main.size, text=f"{prev.text}{joiner}{line.text}", bold=main.bold,
                                hyphen=line.hyphen, marker_small=prev.marker_small or (
                                    prev.text.strip("()").isdigit() and prev.size < 0.85 * line.size),
                                column=prev.column)
                continue
        kept.append(line)
    return kept


def test_row_sweep_merges_exactly_as_the_plain_scan() -> None:
    rnd = random.Random(7)
    texts = ["a", "12", "(3)", "word", "Union,", "12 or if", "(", "[", "x y", "7", "( )", "systems.", "2,3"]
    for _ in range(4000):
        row = []
        for _ in range(rnd.randint(2, 12)):
            x0, size = rnd.uniform(0, 100), rnd.choice([10, 10, 10, 6, 7, 12])
            bottom = 100 + rnd.uniform(-3, 3)
            row.append(Line(page=1, x0=x0, x1=x0 + rnd.uniform(1, 40), top=bottom - size, bottom=bottom,
                            size=size, text=rnd.choice(texts), marker_small=rnd.random() < 0.2,
                            column=rnd.choice([0, 0, 0, 1])))
        assert _merge_row(copy.deepcopy(row)) == _scan_merge_row(copy.deepcopy(row)), row
