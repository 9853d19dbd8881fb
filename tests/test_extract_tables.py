"""Ruled tables in PDFs become ``table`` blocks and leave the paragraphs around them whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from extract_samples import paragraph, word_ratio
from pdf_factory import write_path_grid_pdf, write_table_pdf
from policylens.extract import Document, extract

ROWS = [["Sector", "Supervisor", "Deadline"],
        ["Health care", "Medical devices office", "30 days"],
        ["Banking", "Prudential regulator", "60 days"],
        ["Transport", "Road safety agency", "90 days"]]
BEFORE = [paragraph(0, 4), paragraph(4, 3)]
AFTER = [paragraph(7, 4)]
BOXED = "Inside a frame: " + paragraph(11, 2)


@pytest.fixture(scope="module")
def table_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_table_pdf(tmp_path_factory.mktemp("tables") / "table.pdf", BEFORE, ROWS, AFTER, boxed=BOXED)


@pytest.fixture(scope="module")
def document(table_pdf: Path) -> Document:
    return extract(table_pdf)


def test_a_ruled_table_becomes_one_table_block_with_a_line_per_row(document: Document) -> None:
    tables = [b for b in document.blocks if b.kind == "table"]
    assert [t.text for t in tables] == ["\n".join(" | ".join(row) for row in ROWS)]
    assert tables[0].page == 1


def test_table_words_leave_the_paragraphs_and_the_text_around_stays_in_order(document: Document) -> None:
    kinds = [b.kind for b in document.blocks]
    assert kinds.index("table") == len(BEFORE)  # between the paragraphs before and after it
    body = " ".join(b.text for b in document.body_blocks)
    assert "Prudential regulator" not in body and "Deadline" not in body
    assert word_ratio(" ".join([*BEFORE, BOXED, *AFTER]), body) >= 0.99


def test_the_plumber_engine_finds_the_same_table(table_pdf: Path) -> None:
    document = extract(table_pdf, {"pdf_engine": "plumber"})
    assert [b.text for b in document.blocks if b.kind == "table"] == ["\n".join(" | ".join(r) for r in ROWS)]
    framed = next(b for b in document.blocks if b.text.startswith("Inside a frame:"))
    assert framed.kind == "paragraph"


def test_a_paragraph_in_a_frame_is_not_a_table(document: Document) -> None:
    framed = next(b for b in document.blocks if b.text.startswith("Inside a frame:"))
    assert framed.kind == "paragraph"


def test_tables_off_keeps_the_cells_as_text(table_pdf: Path) -> None:
    document = extract(table_pdf, {"tables": False})
    assert not any(b.kind == "table" for b in document.blocks)
    assert "Prudential regulator" in " ".join(b.text for b in document.body_blocks)


def test_rules_without_vertical_lines_are_left_as_text(tmp_path: Path) -> None:
    path = write_table_pdf(tmp_path / "rules.pdf", BEFORE, ROWS, AFTER, grid=False)
    document = extract(path)
    assert not any(b.kind == "table" for b in document.blocks)
    assert "Banking Prudential regulator 60 days" in " ".join(b.text for b in document.blocks)


def test_cli_markdown_indents_table_rows_and_no_tables_flag_turns_them_off(table_pdf: Path) -> None:
    from typer.testing import CliRunner

    from policylens.cli import app

    runner = CliRunner()
    shown = runner.invoke(app, ["extract", str(table_pdf), "--format", "markdown"])
    assert shown.exit_code == 0, shown.output
    assert "    Banking | Prudential regulator | 60 days" in shown.stdout
    plain = runner.invoke(app, ["extract", str(table_pdf), "--no-tables"])
    assert plain.exit_code == 0, plain.output
    assert " | " not in plain.stdout and "Prudential regulator" in plain.stdout


def test_a_grid_drawn_as_one_scaled_path_is_found(tmp_path: Path) -> None:
    rows = [["Duty", "Holder", "When"], ["Keep logs", "Provider", "Always"],
            ["Report incidents", "Deployer", "Within 15 days"]]
    path = write_path_grid_pdf(tmp_path / "grid.pdf", rows, before=paragraph(0, 3), after=paragraph(3, 3))
    document = extract(path)
    assert [b.kind for b in document.blocks] == ["paragraph", "table", "paragraph"]
    assert document.blocks[1].text == "\n".join(" | ".join(row) for row in rows)


def _plumber_grids(horizontal: list[tuple[float, float, float]],
                   vertical: list[tuple[float, float, float]]) -> list[tuple[object, object]]:
    """pdfplumber's own ``lines`` strategy on the same edges, as (bbox, rows)."""
    from pdfplumber.table import TableFinder

    edges = [{"orientation": "h", "object_type": "line", "x0": a, "x1": b, "top": y, "bottom": y,
              "width": b - a, "height": 0.0} for a, b, y in horizontal]
    edges += [{"orientation": "v", "object_type": "line", "x0": x, "x1": x, "top": a, "bottom": b,
               "width": 0.0, "height": b - a} for x, a, b in vertical]

    class _Page:
        bbox = (0.0, 0.0, 10_000.0, 10_000.0)

    page = _Page()
    page.edges = edges  # type: ignore[attr-defined]
    finder = TableFinder(page, {"vertical_strategy": "lines", "horizontal_strategy": "lines"})  # type: ignore[arg-type]
    return [(tuple(t.bbox), [list(row.cells) for row in t.rows]) for t in finder.tables]


@pytest.mark.parametrize("seed", range(40))
def test_grid_finder_finds_the_cells_pdfplumbers_table_finder_finds(seed: int) -> None:
    """grid.find_grids replaces pdfplumber's TableFinder (and its import): same tables, same cells."""
    import itertools
    import random

    from policylens.extract.grid import find_grids

    rng = random.Random(seed)
    horizontal: list[tuple[float, float, float]] = []
    vertical: list[tuple[float, float, float]] = []
    for n_table in range(rng.randint(1, 3)):  # tables drawn as rule segments; later ones miss some
        keep = 1.0 if n_table == 0 else 0.85  # (merged cells), the first is whole
        left, top = rng.uniform(20, 300), rng.uniform(20, 500)
        xs = [left + sum(rng.uniform(15, 90) for _ in range(i)) for i in range(rng.randint(2, 6))]
        ys = [top + sum(rng.uniform(8, 40) for _ in range(i)) for i in range(rng.randint(2, 7))]
        for y in ys:  # one rule per cell side, jittered within the snap and join tolerances
            for a, b in itertools.pairwise(xs):
                if rng.random() < keep:
                    horizontal.append((a + rng.uniform(-1.5, 1.5), b + rng.uniform(-1.5, 1.5),
                                       y + rng.uniform(-1.2, 1.2)))
        for x in xs:
            for a, b in itertools.pairwise(ys):
                if rng.random() < keep:
                    vertical.append((x + rng.uniform(-1.2, 1.2), a + rng.uniform(-1.5, 1.5),
                                     b + rng.uniform(-1.5, 1.5)))
    for _ in range(rng.randint(0, 6)):  # stray rules: underlines, separators, a short tick
        x0, y = rng.uniform(0, 500), rng.uniform(0, 700)
        horizontal.append((x0, x0 + rng.uniform(0.5, 200), y))
    ours = [(g.bbox, g.rows) for g in find_grids(horizontal, vertical)]
    assert ours == _plumber_grids(horizontal, vertical)
    assert ours  # the grids are found (this is not a comparison of two empty lists)
