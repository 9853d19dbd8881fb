"""Read one PDF page with pypdfium2: fast text plus a few positions per word.

Per-character calls through ctypes cost about a microsecond each, so asking
for every glyph's box would cap us near 100 pages/s. Instead the page's text
comes out in one ``FPDFText_GetText`` call (pdfium's own line breaks included)
and we ask for the loose boxes of each word's first and last character (two
calls per word) and the font weight of each line's first character. The font size is the
loose box height (the font's ascent to descent): ``FPDFText_GetFontSize`` ignores
the text matrix, so PDFs that set ``Tf 1`` and scale the matrix (the EU Official
Journal does) would all read as 1 pt.
"""

from __future__ import annotations

import ctypes
import math
import re
import struct
import sys
from typing import Any

import pypdfium2 as pdfium
import pypdfium2.raw as raw

from policylens.extract import pdfium_bulk
from policylens.extract.lines import GUTTER_EMS, Line, PageLines, Word, fragments
from policylens.extract.pdfium_calls import pointer_arg, unchecked
from policylens.extract.pdfium_lock import PDFIUM_LOCK
from policylens.extract.tables import TableArea, find_tables, route_words, table_line

# pdfium marks a hyphen it saw at a line end as U+FFFE (older builds: U+0002)
# and then runs the two lines together; we turn it back into a line break.
_SOFT_HYPHENS = "\ufffe\x02"
_LINE_SPLIT = re.compile(r"(\r\n|\r|\n|[\ufffe\x02])")
_BREAKS = frozenset({"\r\n", "\r", "\n", *_SOFT_HYPHENS})
# A loose char box spans the font's ascent to descent, about 1.15 em for common fonts;
# dividing by it puts sizes back on the usual point scale.
_LOOSE_EM = 1.15
# A word ending in 1-3 digits after a letter (and maybe punctuation): "Regulation1", "Union.2",
# "application9;". When the digits are set smaller and raised they are a footnote reference.
_GLUED = re.compile(r"(.*[^\W\d_][.,;:!?)\]\u201d\u2019\"]*)(\d{1,3}\+?)([.,;:!?)\]]*)")
_GLUED_END = frozenset("0123456789+.,;:!?)]")
# left, top, right, bottom of an FS_RECTF in one step: four ctypes field reads cost twice as much.
_corners = struct.Struct("4f").unpack_from
_GET_MATRIX = unchecked("FPDFText_GetMatrix")
_FONT_SIZE = unchecked("FPDFText_GetFontSize", ctypes.c_double)
_MATRIX = raw.FS_MATRIX()  # filled by _GET_MATRIX; only used under PDFIUM_LOCK
_MATRIX_REF = ctypes.byref(_MATRIX)


def read_page(pdf: pdfium.PdfDocument, index: int, *, tables: bool = False, bulk: bool = True) -> PageLines:
    """The lines of page ``index`` (0-based); the page is closed before returning.

    With ``tables``, ruled tables become single ``table`` lines (see ``tables.py``).
    ``bulk=False`` reads every page word by word (the tests compare the two readings).
    The page is read under ``PDFIUM_LOCK``: one uncontended acquire per page.
    """
    with PDFIUM_LOCK:
        # Raw handles rather than PdfPage/PdfTextPage: the helper objects register finalizers
        # and parent links on every page, a few percent of the time of a short page.
        page = raw.FPDF_LoadPage(pdf.raw, index)
        if not page:
            raise pdfium.PdfiumError("Failed to load page.")
        try:
            width, height = raw.FPDF_GetPageWidthF(page), raw.FPDF_GetPageHeightF(page)
            areas = find_tables(page, height) if tables else []
            textpage = raw.FPDFText_LoadPage(page)
            if not textpage:
                raise pdfium.PdfiumError("Failed to load text page.")
            try:
                result = _read_textpage(textpage, index + 1, width, height, areas, bulk=bulk)
                if not result.lines:
                    result.blank = _nothing_drawn(page)
                return result
            finally:
                raw.FPDFText_ClosePage(textpage)
        finally:
            raw.FPDF_ClosePage(page)


def _read_textpage(handle: Any, number: int, width: float, height: float,
                   areas: list[TableArea], *, bulk: bool = True) -> PageLines:
    result = PageLines(number=number, width=width, height=height, engine="pdfium")
    # Pre-bound functions on the raw handle: pypdfium2's wrapper objects convert
    # themselves on every ctypes call, which costs more than the call itself here.
    n_chars = raw.FPDFText_CountChars(handle)
    if n_chars <= 0:
        return result
    buffer = (ctypes.c_ushort * (n_chars + 1))()
    written = raw.FPDFText_GetText(handle, 0, n_chars, buffer)
    text = bytes(memoryview(buffer).cast("B")[: max(written - 1, 0) * 2]).decode("utf-16-le", "replace")
    # Text index == char index unless pdfium dropped/inserted chars or the page has
    # characters outside the BMP (two UTF-16 units): then translate through pdfium.
    identity = written - 1 == n_chars and len(text) == n_chars
    units = None if identity else _utf16_offsets(text)
    to_char = raw.FPDFText_GetCharIndexFromTextIndex

    rect = raw.FS_RECTF()
    ref = ctypes.byref(rect)
    # Per-word calls go through unchecked copies of the C functions (a third of the cost).
    box, weight = unchecked("FPDFText_GetLooseCharBox"), unchecked("FPDFText_GetFontWeight")
    text_handle = pointer_arg(handle)  # the handle as a reusable argument of the unchecked calls
    origin = raw.FPDFText_GetCharOrigin
    origin_x, origin_y = ctypes.c_double(), ctypes.c_double()
    sizes: dict[float, float] = {}  # loose box height -> real size if the font is broken, else 0
    if bulk and identity:  # most pages: whole-page arrays (pdfium_bulk.py)
        read = pdfium_bulk.read_lines(handle, text_handle, buffer, text, number, height, box, weight,
                                      ref, rect, sizes, areas, sys.modules[__name__])
        if read is not None:
            result.lines, result.backward_jumps = read
            result.n_chars = n_chars
            return result
    bold = False
    lines: list[Line] = []
    pending: list[Word] = []
    previous_top: float | None = None
    jumps = 0
    position = 0
    count_runs = unchecked("FPDFText_CountRects")
    whole: Line | None = None  # a pdfium line read in one piece (see below), waiting for its break
    for piece in _LINE_SPLIT.split(text):
        if not piece:
            continue
        if piece in _BREAKS:
            if pending and areas:
                pending = route_words(pending, areas)
            if pending or whole is not None:
                if whole is not None:
                    whole.hyphen = piece in _SOFT_HYPHENS
                    new = [whole]
                    whole = None
                else:
                    new = fragments(pending, number, hyphen=piece in _SOFT_HYPHENS)
                if previous_top is not None and new[0].top < previous_top - 2 * new[0].size:
                    jumps += 1
                previous_top = new[-1].top
                lines.extend(new)
                pending = []
            position += len(piece)
            continue
        if units is None and not areas:
            # One text object (one run of pdfium's text rectangles) drawn the whole line: one
            # font, one size, one baseline and no gap wider than its own spacing, so the line
            # is one fragment and needs the boxes of its first and last characters only.
            stripped = piece.strip()
            if stripped:
                first = position + piece.index(stripped[0])
                last = first + len(stripped) - 1
                if count_runs(text_handle, first, last - first + 1) == 1:
                    whole = _whole_line(handle, text_handle, box, weight, ref, rect, sizes, first,
                                        stripped, number, height)
                    if whole is not None:
                        position += len(piece)
                        continue
        end = 0
        for word in piece.split():  # the breaks are split off already
            start = piece.find(word, end)
            end = start + len(word)
            first = position + start
            last = position + end - 1
            if units is not None:
                first = to_char(handle, units[first])
                last = to_char(handle, units[last])
                if first < 0 or last < 0:
                    continue
            box(text_handle, first, ref)
            x0, box_top, x1, box_bottom = _corners(rect)
            top, bottom, loose = height - box_top, height - box_bottom, box_top - box_bottom
            true_size = sizes.get(loose)
            if true_size is None:
                true_size = sizes[loose] = _broken_font_size(text_handle, first, loose)
            if true_size:  # the font's ascent/descent are nonsense: rebuild the box from the baseline
                origin(handle, first, ctypes.byref(origin_x), ctypes.byref(origin_y))
                baseline = height - origin_y.value
                top, bottom = baseline - 0.9 * true_size, baseline + (_LOOSE_EM - 0.9) * true_size
            if last != first:
                box(text_handle, last, ref)
                x1 = _corners(rect)[2]
            if not pending:
                heavy = weight(text_handle, first)
                bold = heavy >= 600 if heavy > 0 else _bold_by_name(handle, first)
            size = (bottom - top) / _LOOSE_EM
            if (word[-1] in _GLUED_END and _ends_in_number(word)
                    and (glued := _GLUED.fullmatch(word)) is not None):
                digit = position + start + glued.end(1)
                digit = digit if units is None else to_char(handle, units[digit])
                if digit >= 0 and _is_reference(text_handle, box, ref, rect, digit, height):
                    head, tail = glued.group(1), glued.group(3)
                    # "Administration.17, 18": the comma belongs to the list of references.
                    word = head if tail.startswith(",") and head[-1] in ".,;:!?" else head + tail
            pending.append(Word(word, x0, x1 if x1 > x0 else x0, top, bottom, size, bold))
        position += len(piece)
    if pending and areas:
        pending = route_words(pending, areas)
    if whole is not None:
        lines.append(whole)
    elif pending:
        lines.extend(fragments(pending, number))
    for area in areas:
        table = table_line(area, number)
        if table is not None:
            lines.append(table)
        else:  # not a real table after all: its words are text again
            for group in area.words:
                lines.extend(fragments(group, number))
    result.lines = lines
    result.n_chars = n_chars
    result.backward_jumps = jumps
    return result


def _whole_line(handle: object, text_handle: object, box: Any, weight: Any, ref: object,
                rect: raw.FS_RECTF, sizes: dict[float, float], first: int, text: str,
                number: int, height: float) -> Line | None:
    """The line ``text`` starting at char ``first`` when one text object drew all of it, or
    ``None`` when it must be read word by word after all.

    One text object has one font, one size and (unless rotated) one baseline, so its words
    need no ``Word`` objects, no size vote and no footnote-reference checks: the line is
    built directly, as ``fragments`` would build it. A text object can still hold wide
    gaps (a tab after a list label such as "2.", or table cells, set as kerning) or run
    along a rotated baseline (a margin stamp), so each word's first and last characters
    are still boxed and any gap or baseline jump that ``fragments`` would split at sends
    the line back to the word-by-word path.
    """
    box(text_handle, first, ref)
    x0, box_top, x1, base = _corners(rect)  # base: pdfium's (bottom-up) box bottom of the previous word
    top, bottom, loose = height - box_top, height - base, box_top - base
    true_size = sizes.get(loose)
    if true_size is None:
        true_size = sizes[loose] = _broken_font_size(text_handle, first, loose)
    if true_size:
        return None  # broken font metrics (rare): the word path rebuilds each box
    size = loose / _LOOSE_EM
    limit = size if size > 1.0 else 1.0
    wide, back, drop = GUTTER_EMS * limit, -limit, 0.8 * limit
    left = right = x0
    box_right = x1  # the right edge of the char boxed last
    words = text.split()  # ``text`` holds no line breaks
    stop = 0
    for word in words:
        offset = text.find(word, stop)
        stop = offset + len(word)
        start, end = first + offset, first + stop - 1
        if start != first:
            box(text_handle, start, ref)
            left, _, box_right, box_bottom = _corners(rect)
            if left - right > wide or left - right < back or abs(box_bottom - base) > drop:
                return None
            base = box_bottom
        if end != start:
            box(text_handle, end, ref)
            box_right = _corners(rect)[2]
        right = box_right if box_right > left else left
        if right > x1:
            x1 = right
    heavy = weight(text_handle, first)
    bold = heavy >= 600 if heavy > 0 else _bold_by_name(handle, first)
    return Line(number, x0, x1, top, bottom, round(size, 1), " ".join(words), bold)


def _ends_in_number(word: str) -> bool:
    """Cheap test that ``_GLUED`` can match: after its closing punctuation, a digit or "+"."""
    head = word.rstrip(".,;:!?)]")
    return bool(head) and (head[-1] == "+" or head[-1].isdecimal())


def _nothing_drawn(page_handle: object) -> bool:
    """No image or form on the page (an intentionally blank page, or one with only rules)."""
    kinds = {raw.FPDFPageObj_GetType(raw.FPDFPage_GetObject(page_handle, i))
             for i in range(raw.FPDFPage_CountObjects(page_handle))}
    return not kinds & {raw.FPDF_PAGEOBJ_IMAGE, raw.FPDF_PAGEOBJ_FORM, raw.FPDF_PAGEOBJ_SHADING}


def _broken_font_size(text_handle: object, index: int, loose: float) -> float:
    """The real size of the char at ``index`` when its loose box is far too tall, else 0.

    Some fonts carry ascent/descent values several times too large (the NIST AI RMF
    Playbook's body font spans 5.6 em), which would make every line overlap the
    next. The font size times the char's matrix scale is the size actually drawn.
    Asked for each new box height on a page (a few dozen times on an EU Official Journal
    page), so it uses the unchecked calls and one matrix reused under ``PDFIUM_LOCK``.
    """
    matrix = _MATRIX
    if not _GET_MATRIX(text_handle, index, _MATRIX_REF):
        return 0.0
    scale = math.sqrt(abs(matrix.a * matrix.d - matrix.b * matrix.c))
    drawn: float = _FONT_SIZE(text_handle, index) * scale
    return drawn if drawn > 1.0 and loose > 1.8 * _LOOSE_EM * drawn else 0.0


def _bold_by_name(handle: object, index: int) -> bool:
    """Bold judged by the font's name: pdfium knows no weight for unembedded standard fonts."""
    name = ctypes.create_string_buffer(64)
    flags = ctypes.c_int(0)
    raw.FPDFText_GetFontInfo(handle, index, name, len(name), ctypes.byref(flags))
    lowered = name.value.lower()
    return any(mark in lowered for mark in (b"bold", b"black", b"heavy", b"semibold"))


def _is_reference(handle: object, box: object, ref: object, rect: raw.FS_RECTF, digit: int,
                  height: float) -> bool:
    """Is the char at ``digit`` set smaller and higher than the char before it (a note reference)?"""
    box(handle, digit - 1, ref)  # type: ignore[operator]
    before_size, before_bottom = rect.top - rect.bottom, height - rect.bottom
    box(handle, digit, ref)  # type: ignore[operator]
    size, bottom = rect.top - rect.bottom, height - rect.bottom
    return bool(0 < size < 0.85 * before_size and bottom < before_bottom - 0.1 * before_size)


def _utf16_offsets(text: str) -> list[int]:
    """UTF-16 unit offset of each character of ``text`` (pdfium's text indices)."""
    offsets: list[int] = []
    unit = 0
    for ch in text:
        offsets.append(unit)
        unit += 2 if ord(ch) > 0xFFFF else 1
    return offsets
