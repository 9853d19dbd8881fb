"""Build the sample corpus PDFs (corpora/samples/*.pdf) from the Markdown sources here.

Usage: ``python corpora/sample-sources/build.py [OUT_DIR]`` (default ``corpora/samples``).

The Markdown is deliberately simple: ``# `` title, ``<!-- header: ... -->`` running
header text, ``## ``/``### `` headings, blank-line separated paragraphs. The PDFs
have a title block, bold headings, justified body text, a running header and a
"Page N of M" footer, like a real gazette or white paper. Output is byte-stable
(reportlab's invariant mode), so rebuilding does not churn git.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

from reportlab.lib.enums import TA_JUSTIFY
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.pdfgen import canvas as rl_canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE.parent / "samples"
_HEADER = re.compile(r"<!--\s*header:\s*(.*?)\s*-->")


@dataclass(frozen=True)
class Source:
    title: str
    header: str
    blocks: list[tuple[str, str]]  # (kind, text): kind in h2, h3, p


def parse(path: Path) -> Source:
    """Split one Markdown source into its title, running header and blocks."""
    title, header, blocks = "", "", []
    for chunk in re.split(r"\n\s*\n", path.read_text(encoding="utf-8")):
        for line in chunk.strip().splitlines():
            if match := _HEADER.match(line.strip()):
                header = match.group(1)
            elif line.startswith("# "):
                title = line[2:].strip()
        text = " ".join(line.strip() for line in chunk.strip().splitlines()
                        if not line.startswith("# ") and not _HEADER.match(line.strip()))
        if not text:
            continue
        if text.startswith("### "):
            blocks.append(("h3", text[4:]))
        elif text.startswith("## "):
            blocks.append(("h2", text[3:]))
        else:
            blocks.append(("p", text))
    if not title:
        raise ValueError(f"{path}: no '# ' title line")
    return Source(title, header or title, blocks)


def _numbered_canvas(header: str) -> type[rl_canvas.Canvas]:
    """A canvas that draws the running header and 'Page N of M' once the page count is known."""

    class NumberedCanvas(rl_canvas.Canvas):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]
            self._pages: list[dict[str, object]] = []

        def showPage(self) -> None:  # noqa: N802 - reportlab's name
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                width, height = A4
                self.setFont("Helvetica", 8)
                self.drawString(2.2 * cm, height - 1.4 * cm, header)
                self.line(2.2 * cm, height - 1.55 * cm, width - 2.2 * cm, height - 1.55 * cm)
                self.drawCentredString(width / 2, 1.2 * cm, f"Page {self._pageNumber} of {total}")
                super().showPage()
            super().save()

    return NumberedCanvas


def build_pdf(source: Source, out: Path) -> None:
    styles = getSampleStyleSheet()
    title = ParagraphStyle("T", parent=styles["Title"], fontSize=16, leading=20, spaceAfter=14)
    h2 = ParagraphStyle("H2", parent=styles["Heading2"], fontSize=12.5, spaceBefore=10, spaceAfter=4)
    h3 = ParagraphStyle("H3", parent=styles["Heading3"], fontSize=10.5, spaceBefore=6, spaceAfter=2)
    body = ParagraphStyle("B", parent=styles["BodyText"], fontName="Times-Roman", fontSize=11,
                          leading=14, alignment=TA_JUSTIFY, spaceAfter=6)
    story: list[object] = [Paragraph(source.title, title), Spacer(1, 4)]
    for kind, text in source.blocks:
        style = {"h2": h2, "h3": h3, "p": body}[kind]
        story.append(Paragraph(text.replace("&", "&amp;").replace("<", "&lt;"), style))
    doc = SimpleDocTemplate(str(out), pagesize=A4, leftMargin=2.2 * cm, rightMargin=2.2 * cm,
                            topMargin=2.3 * cm, bottomMargin=2.2 * cm, title=source.title,
                            author="policylens sample corpus (fictional)", invariant=1)
    doc.build(story, canvasmaker=_numbered_canvas(source.header))


def main(argv: list[str]) -> int:
    out_dir = Path(argv[1]) if len(argv) > 1 else DEFAULT_OUT
    out_dir.mkdir(parents=True, exist_ok=True)
    for path in sorted(HERE.glob("[0-9][0-9]-*.md")):
        target = out_dir / f"{path.stem}.pdf"
        build_pdf(parse(path), target)
        print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
