"""Build real PDFs for tests: running headers, columns, footnotes, encryption, scans.

A reusable helper (any test may import it: ``from pdf_factory import write_pdf``).
Everything is drawn with reportlab, so the PDFs have a real text layer laid out
the way office tools lay them out.

Text conventions inside ``pages`` (a list of pages, each a list of paragraphs):

* ``"# Article 5 Scope"`` draws a heading (larger bold font); the ``#`` is not drawn.
* ``"\\n"`` inside a paragraph forces a line break exactly there, so a test can put
  ``"regu-\\nlation"`` at a line end to get a hyphenated break.
* ``"^3"`` (or ``"^3+"``) right after a word (``"Regulation^3 applies"``) draws a footnote reference:
  the digits set small and raised, glued to the word as office tools set them.
* Any other text is wrapped to the column width.

Each inner list starts a new page; a page that overflows continues on the next
page (numbering follows the real page count).

Functions:

* :func:`write_pdf` — the general builder (headers, footers, page numbers, columns,
  footnotes, title metadata, optional encryption).
* :func:`write_drawn_pdf` — strings at exact places (cover pages, memo headers, banners);
  :func:`body_lines` wraps a paragraph into such strings.
* :func:`write_path_grid_pdf` — a table whose grid is one multi-segment path.
* :func:`write_tall_metrics_pdf` — body text in a font whose metrics claim 5.6 em.
* :func:`write_table_pdf` — paragraphs around a ruled table (and optionally a boxed paragraph).
* :func:`write_encrypted_pdf` — ``write_pdf`` with a user password (``""`` = opens freely).
* :func:`write_image_only_pdf` — pages that hold only a picture: no text layer.
* :func:`write_dense_pdf` — one page of single-character text objects (dense PDFs).
* :func:`write_zero_page_pdf`, :func:`write_truncated_pdf` — broken inputs.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas

BODY_FONT = "Helvetica"
HEADING_FONT = "Helvetica-Bold"
MARGIN = 56.0
GUTTER = 24.0
_REFERENCE = re.compile(r"\^(\d{1,3}\+?)")


@dataclass
class _Line:
    text: str
    font: str
    size: float
    gap_before: float  # extra space above the line (paragraph spacing)


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    lines: list[str] = []
    for forced in text.split("\n"):
        current = ""
        for word in forced.split():
            candidate = f"{current} {word}" if current else word
            if current and stringWidth(candidate, font, size) > width:
                lines.append(current)
                current = word
            else:
                current = candidate
        lines.append(current)
    return lines


def _layout(pages: Sequence[Sequence[str]], width: float, font_size: float) -> list[list[list[_Line]]]:
    """Paragraphs → lines; returns pages → columns-worth of flowing lines (flattened per page)."""
    laid: list[list[list[_Line]]] = []
    for paragraphs in pages:
        lines: list[_Line] = []
        for para in paragraphs:
            if para.startswith("# "):
                size, font, text = font_size * 1.5, HEADING_FONT, para[2:]
            else:
                size, font, text = font_size, BODY_FONT, para
            for i, line in enumerate(_wrap(text, font, size, width)):
                lines.append(_Line(line, font, size, size * 0.9 if i == 0 and lines else 0.0))
        laid.append([lines])
    return laid


def write_pdf(
    path: str | Path,
    pages: Sequence[Sequence[str]],
    *,
    header: str | None = None,
    footer: str | None = None,
    page_numbers: bool = True,
    page_number_format: str = "Page {n} of {total}",
    columns: int = 1,
    font_size: float = 10.0,
    footnotes: Mapping[int, Sequence[str]] | None = None,
    title: str | None = None,
    user_password: str | None = None,
    owner_password: str = "owner-secret",
) -> Path:
    """Write a text PDF and return its path.

    ``header``/``footer`` are drawn on every page at a fixed height (a running
    header/footer); ``page_numbers`` adds ``page_number_format`` (``{n}``, ``{total}``)
    centred at the bottom. ``columns`` (1 or 2) flows each page's text top-to-bottom
    through the columns. ``footnotes`` maps a 0-based *source* page index to footnote
    lines drawn in a small font at that page's bottom, under a short rule.
    ``title`` sets the PDF metadata title. ``user_password`` encrypts the file
    (``""`` = encrypted but opens without a password).
    """
    path = Path(path)
    page_w, page_h = A4
    col_w = (page_w - 2 * MARGIN - (columns - 1) * GUTTER) / columns
    top, bottom = page_h - MARGIN - 20, MARGIN + 30
    footnotes = dict(footnotes or {})

    # First pass: place lines on physical pages so "{total}" is known before drawing.
    physical: list[tuple[int, list[tuple[float, float, _Line]]]] = []  # (source index, placed lines)
    for index, lines in enumerate(_layout(pages, col_w, font_size)):
        flat = lines[0]
        note_h = (len(footnotes.get(index, ())) * font_size * 0.8 * 1.25 + 12) if index in footnotes else 0
        placed: list[tuple[float, float, _Line]] = []
        col, y = 0, top
        for line in flat:
            need = line.size * 1.25 + line.gap_before
            if y - need < bottom + note_h:
                col += 1
                y = top
                if col >= columns:
                    physical.append((index, placed))
                    placed, col = [], 0
                need = line.size * 1.25
            y -= need
            placed.append((MARGIN + col * (col_w + GUTTER), y, line))
        physical.append((index, placed))

    encrypt = None
    if user_password is not None:
        from reportlab.lib.pdfencrypt import StandardEncryption

        encrypt = StandardEncryption(user_password, ownerPassword=owner_password, strength=128)
    pdf = canvas.Canvas(str(path), pagesize=A4, encrypt=encrypt, pageCompression=0)
    if title:
        pdf.setTitle(title)
    total = len(physical)
    drawn_notes: set[int] = set()
    for n, (index, placed) in enumerate(physical, start=1):
        if header:
            pdf.setFont(BODY_FONT, 8)
            pdf.drawString(MARGIN, page_h - MARGIN + 10, header)
        for x, y, line in placed:
            _draw_line(pdf, x, y, line)
        if index in footnotes and index not in drawn_notes:
            drawn_notes.add(index)
            size = font_size * 0.8
            notes = footnotes[index]
            y = bottom + len(notes) * size * 1.25 + 4
            pdf.line(MARGIN, y + 4, MARGIN + 120, y + 4)
            for note in notes:
                y -= size * 1.25
                pdf.setFont(BODY_FONT, size)
                pdf.drawString(MARGIN, y, note)
        if footer:
            pdf.setFont(BODY_FONT, 8)
            pdf.drawString(MARGIN, MARGIN, footer)
        if page_numbers:
            pdf.setFont(BODY_FONT, 8)
            pdf.drawCentredString(page_w / 2, MARGIN - 14, page_number_format.format(n=n, total=total))
        pdf.showPage()
    pdf.save()
    return path


def _draw_line(pdf: canvas.Canvas, x: float, y: float, line: _Line) -> None:
    """One line; ``^digits`` parts are drawn as raised, smaller footnote references."""
    if "^" not in line.text:
        pdf.setFont(line.font, line.size)
        pdf.drawString(x, y, line.text)
        return
    text = pdf.beginText(x, y)
    for i, part in enumerate(_REFERENCE.split(line.text)):
        if i % 2:  # a reference: 60% size, raised by a third of the body size
            text.setFont(line.font, line.size * 0.6)
            text.setRise(line.size * 0.35)
        else:
            text.setFont(line.font, line.size)
            text.setRise(0)
        text.textOut(part)
    pdf.drawText(text)


@dataclass(frozen=True)
class Drawn:
    """One string drawn at an exact place: ``top`` is its baseline's distance from the page top."""

    text: str
    x: float
    top: float
    size: float = 10.0
    bold: bool = False


def body_lines(text: str, *, top: float, size: float = 10.0, width: float = A4[0] - 2 * MARGIN,
               x: float = MARGIN) -> list[Drawn]:
    """``text`` wrapped to ``width`` as ``Drawn`` lines starting at ``top`` (1.25 line spacing)."""
    return [Drawn(line, x, top + i * size * 1.25, size)
            for i, line in enumerate(_wrap(text, BODY_FONT, size, width))]


def write_drawn_pdf(path: str | Path, pages: Sequence[Sequence[Drawn]], *, title: str | None = None) -> Path:
    """A PDF whose pages hold exactly the given strings (cover pages, memos, banners)."""
    path = Path(path)
    pdf = canvas.Canvas(str(path), pagesize=A4, pageCompression=0)
    if title:
        pdf.setTitle(title)
    for items in pages:
        for item in items:
            pdf.setFont(HEADING_FONT if item.bold else BODY_FONT, item.size)
            pdf.drawString(item.x, A4[1] - item.top, item.text)
        pdf.showPage()
    pdf.save()
    return path


def write_table_pdf(path: str | Path, before: Sequence[str], rows: Sequence[Sequence[str]],
                    after: Sequence[str], *, boxed: str | None = None, grid: bool = True) -> Path:
    """Paragraphs, a ruled table (reportlab platypus, every cell boxed when ``grid``, else only
    horizontal rules), more paragraphs; ``boxed`` adds a paragraph drawn inside a one-cell frame."""
    from reportlab.lib import colors
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    path = Path(path)
    style = getSampleStyleSheet()["BodyText"]
    story: list[object] = [Paragraph(text, style) for text in before]
    story.append(Spacer(1, 12))
    rules = [("GRID", (0, 0), (-1, -1), 0.5, colors.black)] if grid else [
        ("LINEBELOW", (0, 0), (-1, -1), 0.5, colors.black)]
    table = Table([list(row) for row in rows], style=TableStyle(rules))
    story += [table, Spacer(1, 12)]
    if boxed:
        frame = Table([[Paragraph(boxed, style)]], colWidths=[A4[0] - 2 * MARGIN - 20],
                      style=TableStyle([("BOX", (0, 0), (-1, -1), 0.8, colors.black)]))
        story += [frame, Spacer(1, 12)]
    story += [Paragraph(text, style) for text in after]
    SimpleDocTemplate(str(path), pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN).build(story)
    return path


def write_path_grid_pdf(path: str | Path, rows: Sequence[Sequence[str]], *, before: str, after: str,
                        col_width: float = 150.0, row_height: float = 20.0) -> Path:
    """A table whose whole grid is ONE path of move/line segments (as some producers draw it),
    between two paragraphs; the grid is drawn under a scaled coordinate system."""
    path = Path(path)
    pdf = canvas.Canvas(str(path), pagesize=A4, pageCompression=0)
    top = 120.0
    for item in body_lines(before, top=top):
        pdf.setFont(BODY_FONT, item.size)
        pdf.drawString(item.x, A4[1] - item.top, item.text)
    grid_top = top + 60
    n_cols = max(len(row) for row in rows)
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            pdf.setFont(BODY_FONT, 10)
            pdf.drawString(MARGIN + c * col_width + 4, A4[1] - (grid_top + (r + 1) * row_height - 6), cell)
    pdf.saveState()
    pdf.scale(2, 2)  # the path's own coordinates are half-size: the matrix must be applied
    grid = pdf.beginPath()
    width, height = n_cols * col_width, len(rows) * row_height
    for r in range(len(rows) + 1):
        y = A4[1] - (grid_top + r * row_height)
        grid.moveTo(MARGIN / 2, y / 2)
        grid.lineTo((MARGIN + width) / 2, y / 2)
    for c in range(n_cols + 1):
        x = MARGIN + c * col_width
        grid.moveTo(x / 2, (A4[1] - grid_top) / 2)
        grid.lineTo(x / 2, (A4[1] - grid_top - height) / 2)
    pdf.setLineWidth(0.25)
    pdf.drawPath(grid, stroke=1, fill=0)
    pdf.restoreState()
    for item in body_lines(after, top=grid_top + height + 40):
        pdf.setFont(BODY_FONT, item.size)
        pdf.drawString(item.x, A4[1] - item.top, item.text)
    pdf.showPage()
    pdf.save()
    return path


def write_tall_metrics_pdf(path: str | Path, pages: Sequence[Sequence[str]]) -> Path:
    """Like ``write_pdf`` (headings with ``# ``), but the body font is an embedded TrueType font
    whose ascent, descent and bounding box claim 5.6 em, as Cambria's do in some real reports."""
    import reportlab
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if "VeraTall" not in pdfmetrics.getRegisteredFontNames():
        font_file = Path(reportlab.__file__).parent / "fonts" / "Vera.ttf"
        pdfmetrics.registerFont(TTFont("VeraTall", str(font_file)))
    path = Path(path)
    pdf = canvas.Canvas(str(path), pagesize=A4, pageCompression=0)
    for paragraphs in pages:
        y = A4[1] - MARGIN - 20
        for para in paragraphs:
            if para.startswith("# "):
                pdf.setFont(HEADING_FONT, 15)
                y -= 10
                pdf.drawString(MARGIN, y, para[2:])
                y -= 24
                continue
            for line in _wrap(para, "VeraTall", 11, A4[0] - 2 * MARGIN):
                pdf.setFont("VeraTall", 11)
                pdf.drawString(MARGIN, y, line)
                y -= 14
            y -= 8
        pdf.showPage()
    pdf.save()
    data = path.read_bytes()
    data = re.sub(rb"/FontBBox \[[^\]]*\]", b"/FontBBox [ -183 -2600 1287 3000 ]", data)
    data = re.sub(rb"/Ascent -?\d+", b"/Ascent 3000", data)
    path.write_bytes(re.sub(rb"/Descent -?\d+", b"/Descent -2600", data))
    return path


def write_encrypted_pdf(path: str | Path, pages: Sequence[Sequence[str]], *, password: str,
                        **kwargs: object) -> Path:
    """``write_pdf`` encrypted with user password ``password`` (``""`` opens without one)."""
    return write_pdf(path, pages, user_password=password, **kwargs)  # type: ignore[arg-type]


def write_image_only_pdf(path: str | Path, n_pages: int = 2) -> Path:
    """A 'scanned' PDF: each page is one raster image and there is no text at all."""
    from PIL import Image, ImageDraw
    from reportlab.lib.utils import ImageReader

    path = Path(path)
    page_w, page_h = A4
    pdf = canvas.Canvas(str(path), pagesize=A4)
    for n in range(n_pages):
        image = Image.new("L", (400, 560), 255)
        draw = ImageDraw.Draw(image)
        for row in range(20):  # grey bars where lines of text would be on a scan
            draw.rectangle((30, 40 + row * 24, 370 - (row * 7 + n * 13) % 90, 52 + row * 24), fill=60)
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        buffer.seek(0)
        pdf.drawImage(ImageReader(buffer), MARGIN, MARGIN, page_w - 2 * MARGIN, page_h - 2 * MARGIN)
        pdf.showPage()
    pdf.save()
    return path


def _draw_scanned_page(pdf: canvas.Canvas, lines: Sequence[str]) -> None:
    """One page of ``lines`` rendered as pixels (no text layer)."""
    from PIL import Image, ImageDraw, ImageFont
    from reportlab.lib.utils import ImageReader

    image = Image.new("L", (1700, 2200), 255)  # about 200 dpi for A4
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=44)  # Pillow's bundled font: no system fonts needed
    for row, line in enumerate(lines):
        draw.text((120, 160 + row * 90), line, fill=0, font=font)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    buffer.seek(0)
    pdf.drawImage(ImageReader(buffer), 0, 0, A4[0], A4[1])
    pdf.showPage()


def write_scanned_text_pdf(path: str | Path, lines: Sequence[str]) -> Path:
    """A 'scanned' page: ``lines`` rendered as pixels (no text layer), for OCR tests."""
    path = Path(path)
    pdf = canvas.Canvas(str(path), pagesize=A4)
    _draw_scanned_page(pdf, lines)
    pdf.save()
    return path


def write_mixed_pdf(path: str | Path, text_lines: Sequence[str], scanned_lines: Sequence[str]) -> Path:
    """A born-digital page of ``text_lines`` followed by a scanned page of ``scanned_lines``."""
    path = Path(path)
    pdf = canvas.Canvas(str(path), pagesize=A4)
    pdf.setFont("Helvetica", 11)
    for row, line in enumerate(text_lines):
        pdf.drawString(MARGIN, A4[1] - MARGIN - row * 16, line)
    pdf.showPage()
    _draw_scanned_page(pdf, scanned_lines)
    pdf.save()
    return path


def write_zero_page_pdf(path: str | Path) -> Path:
    """A syntactically valid PDF whose page tree holds no pages."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [] /Count 0 >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    path = Path(path)
    path.write_bytes(out.getvalue())
    return path


def write_truncated_pdf(path: str | Path, pages: Sequence[Sequence[str]], *, keep: float = 0.4) -> Path:
    """A real PDF cut after ``keep`` of its bytes (a failed download)."""
    path = Path(path)
    write_pdf(path, pages)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def write_dense_pdf(path: str | Path, rows: Sequence[str] = (), *, scatter: int = 0, size: float = 4.0,
                    seed: int = 0) -> Path:
    """One page of single-character text objects: the dense PDFs that stress row grouping.

    ``rows`` are set one character per text object (leading 1.25 × ``size``) and drawn
    column by column, so the content stream runs down the page and only geometry gives
    the reading order; ``scatter`` more letters then land at random places (the
    worst case: overlapping lines that chain into one huge row).
    """
    import random

    path = Path(path)
    rnd = random.Random(seed)
    columns: dict[int, list[tuple[float, float, str]]] = {}
    for r, text in enumerate(rows):
        x = MARGIN / 2
        for c, ch in enumerate(text):
            if not ch.isspace():  # a space is where nothing is drawn, as office tools do
                columns.setdefault(c, []).append((x, A4[1] - MARGIN / 2 - r * 1.25 * size, ch))
            x += stringWidth(ch, BODY_FONT, size)
    places = [place for c in sorted(columns) for place in columns[c]]
    letters = "abcdefghijklmnopqrstuvwxyz"
    places += [(rnd.uniform(20, A4[0] - 20), rnd.uniform(20, A4[1] - 20), rnd.choice(letters))
               for _ in range(scatter)]
    pdf = canvas.Canvas(str(path), pagesize=A4, pageCompression=0)
    pdf.setFont(BODY_FONT, size)
    for x, y, ch in places:
        pdf.drawString(x, y, ch)
    pdf.showPage()
    pdf.save()
    return path
