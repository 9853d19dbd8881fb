"""Read one PDF page with pdfplumber (pdfminer): slower, but an independent decoder.

Used for ``--pdf-engine plumber`` and, under ``auto``, for pages whose pdfium text
looks garbled. Produces the same ``PageLines`` model as the pdfium reader.
"""

from __future__ import annotations

from typing import Any

from policylens.extract.lines import Line, PageLines, Word, fragments
from policylens.extract.tables import TableArea, route_words, table_line


def read_page(pdf: Any, index: int, *, tables: bool = False) -> PageLines:
    """The lines of page ``index`` (0-based) of an open ``pdfplumber.PDF``; caches are released.

    With ``tables``, pdfplumber's own ``find_tables`` turns ruled tables into ``table`` lines.
    """
    page = pdf.pages[index]
    try:
        result = PageLines(number=index + 1, width=float(page.width), height=float(page.height),
                           engine="plumber")
        raw_words = page.extract_words(keep_blank_chars=False, use_text_flow=False,
                                       extra_attrs=["size", "fontname"])
        result.n_chars = len(page.chars)
        areas = [TableArea(bbox=tuple(t.bbox), rows=[list(r.cells) for r in t.rows])
                 for t in page.find_tables()] if tables else []
        lines: list[Line] = []
        row: list[Word] = []
        for item in sorted(raw_words, key=lambda w: (round(float(w["bottom"])), float(w["x0"]))):
            word = Word(text=item["text"], x0=float(item["x0"]), x1=float(item["x1"]),
                        top=float(item["top"]), bottom=float(item["bottom"]), size=float(item["size"]),
                        bold="bold" in str(item.get("fontname", "")).lower())
            if areas and not route_words([word], areas):
                continue  # inside a table
            if row and abs(word.bottom - row[-1].bottom) > 0.4 * max(word.size, 1.0):
                lines.extend(fragments(sorted(row, key=lambda w: w.x0), result.number))
                row = []
            row.append(word)
        if row:
            lines.extend(fragments(sorted(row, key=lambda w: w.x0), result.number))
        for area in areas:
            table = table_line(area, result.number)
            if table is not None:
                lines.append(table)
            elif area.words:  # not a real table: its words are text again
                lines.extend(fragments(sorted((w for g in area.words for w in g), key=lambda w: (
                    round(w.bottom), w.x0)), result.number))
        result.lines = lines
        result.blank = not lines and not page.images
        return result
    finally:
        page.close()  # pdfplumber caches every parsed object on the page: free them now
