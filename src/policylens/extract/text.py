"""Plain text, Markdown and HTML → ``Document``, with the same block model as PDFs.

HTML is read with the standard library's ``html.parser`` (no extra dependency):
``script``/``style``/``nav`` and similar are dropped, ``h1``–``h6`` become
headings, ``li`` list items and table rows a table block.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from policylens.errors import EmptyFile
from policylens.extract.document import BlockKind, Document
from policylens.extract.hyphens import Hyphenation, join_lines
from policylens.extract.quality import assess
from policylens.extract.structure import (
    LEGAL_HEADING,
    LIST_MARKER,
    RawBlock,
    classify_text,
    merge_label_headings,
    with_sections,
    words,
)
from policylens.extract.text_title import text_title

_BLANK = re.compile(r"\n\s*\n")
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_MD_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+")
_MD_FOOTNOTE = re.compile(r"^\[\^[^\]]+\]:\s*")
_MD_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_MD_FOOTREF = re.compile(r"\[\^[^\]]+\]")
_MD_EMPHASIS = re.compile(r"(\*\*|__|\*|_|`)(?=\S)(.+?)(?<=\S)\1")
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else Windows-1252, which accepts any byte."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _document(path: Path, sha256: str, blocks: list[RawBlock], title: str | None,
              metadata: dict[str, str]) -> Document:
    final = with_sections(merge_label_headings(blocks))
    if not final:
        raise EmptyFile("the file has no text", path=str(path))
    if not title:
        first = final[0]
        title = first.text if first.kind == "heading" and len(first.text) <= 200 else path.stem
    text = "\n".join(b.text for b in final)
    return Document(source=str(path), sha256=sha256, title=title, n_pages=0, blocks=final,
                    metadata=metadata, quality=assess(text, n_pages=0))


# --- plain text -------------------------------------------------------------------


def read_text(path: Path, data: bytes, sha256: str) -> Document:
    """Paragraphs are separated by blank lines; list markers and legal labels start new blocks."""
    text = decode(data)
    chunks = [c for c in _BLANK.split(text) if c.strip()]
    if len(chunks) == 1 and text.count("\n") > 3:
        chunks = [line for line in text.split("\n") if line.strip()]  # one paragraph per line
    hyphenation = Hyphenation()
    hyphenation.add_lines(line.strip() for line in text.split("\n"))
    blocks: list[RawBlock] = []
    for chunk in chunks:
        for group in _split_chunk([ln.strip() for ln in chunk.split("\n") if ln.strip()]):
            joined = join_lines(group, hyphenation)
            emphasised = len(group) == 1 and _standalone_title(joined)
            blocks.append(RawBlock(None, classify_text(joined, emphasised=emphasised), joined))
    # a text without a single wordy line keeps its file name rather than a heading such as "A BILL"
    return _document(path, sha256, blocks, text_title(text) or path.stem, {})


def _split_chunk(lines: list[str]) -> list[list[str]]:
    groups: list[list[str]] = []
    for line in lines:
        starts = LIST_MARKER.match(line) or (LEGAL_HEADING.match(line) and words(line) <= 14)
        if groups and not starts:
            groups[-1].append(line)
        else:
            groups.append([line])
    return groups


def _standalone_title(text: str) -> bool:
    """A lone short line such as "Definitions" or "PART TWO": a heading in plain text."""
    return (words(text) <= 12 and text[:1].isupper() and not text.endswith((".", ",", ";", ":"))
            and not LIST_MARKER.match(text))


# --- Markdown ---------------------------------------------------------------------


def _inline(text: str) -> str:
    text = _MD_IMAGE.sub("", text)
    text = _MD_LINK.sub(r"\1", text)
    text = _MD_FOOTREF.sub("", text)
    for _ in range(2):  # nested emphasis such as ***bold italic***
        text = _MD_EMPHASIS.sub(r"\2", text)
    return " ".join(text.split())


def front_matter(text: str) -> tuple[dict[str, str], str]:
    """Simple ``key: value`` YAML front matter → metadata, and the rest of the text."""
    if not text.startswith("---\n"):
        return {}, text
    end = text.find("\n---", 4)
    if end < 0:
        return {}, text
    metadata: dict[str, str] = {}
    for line in text[4:end].split("\n"):
        key, sep, value = line.partition(":")
        if sep and key.strip() and not key.startswith((" ", "-", "#")):
            metadata[key.strip().lower()] = value.strip().strip("'\"")
    rest = text[end + 4:]
    return metadata, rest[rest.find("\n") + 1:] if "\n" in rest else ""


def read_markdown(path: Path, data: bytes, sha256: str) -> Document:
    metadata, text = front_matter(decode(data))
    text = _HTML_COMMENT.sub("", text)
    blocks: list[RawBlock] = []
    pending: list[str] = []
    pending_kind: BlockKind = "paragraph"
    in_fence = False

    def flush() -> None:
        nonlocal pending_kind
        if pending:
            if pending_kind == "table":
                joined = "\n".join(pending)
                kind: BlockKind = "table"
            else:
                joined = _inline(" ".join(pending))
                kind = pending_kind if pending_kind != "paragraph" else classify_text(joined)
            if joined:
                blocks.append(RawBlock(None, kind, joined))
        pending.clear()
        pending_kind = "paragraph"

    for raw_line in text.split("\n"):
        line = raw_line.rstrip()
        if line.lstrip().startswith(("```", "~~~")):
            flush()
            in_fence = not in_fence
            continue
        if in_fence:
            continue  # code listings are not policy prose
        stripped = line.strip().lstrip(">").strip()
        if not stripped or set(stripped) <= set("-*_= "):
            flush()
            continue
        heading = _MD_HEADING.match(stripped)
        if heading:
            flush()
            blocks.append(RawBlock(None, "heading", _inline(heading.group(2))))
            continue
        if stripped.startswith("|"):
            if pending_kind != "table":
                flush()
                pending_kind = "table"
            if not set(stripped) <= set("|-: "):
                cells = [_inline(c) for c in stripped.strip("|").split("|")]
                pending.append(" | ".join(c for c in cells))
            continue
        if _MD_FOOTNOTE.match(stripped):
            flush()
            pending_kind = "footnote"
            pending.append(_MD_FOOTNOTE.sub("", stripped))
            continue
        if _MD_ITEM.match(line):
            flush()
            pending_kind = "list_item"
            pending.append(_MD_ITEM.sub("", line))
            continue
        if pending_kind == "table":
            flush()
        pending.append(stripped)
    flush()
    title = metadata.get("title") or next((b.text for b in blocks if b.kind == "heading"), None)
    return _document(path, sha256, blocks, title, metadata)


# --- HTML -------------------------------------------------------------------------

_SKIP = {"script", "style", "noscript", "template", "svg", "head", "nav", "iframe", "object", "canvas"}
_BLOCK = {"p", "div", "section", "article", "main", "header", "footer", "aside", "ul", "ol", "li",
          "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "dd", "dt", "dl", "figcaption",
          "table", "tr", "form", "address", "hr", "br", "body", "html", "details", "summary"}
_VOID = {"br", "hr", "img", "meta", "link", "input", "area", "base", "col", "embed", "source", "wbr"}


class _HtmlBlocks(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[RawBlock] = []
        self.title = ""
        self._skip = 0
        self._in_title = False
        self._text: list[str] = []
        self._kinds: list[BlockKind] = []
        self._rows: list[str] = []
        self._cells: list[str] = []
        self._table_depth = 0

    def _kind(self) -> BlockKind:
        return self._kinds[-1] if self._kinds else "paragraph"

    def _flush(self) -> None:
        text = " ".join("".join(self._text).split())
        self._text = []
        if not text:
            return
        if self._table_depth:
            self._cells.append(text)
            return
        kind = self._kind()
        if kind == "paragraph":
            kind = classify_text(text)
        self.blocks.append(RawBlock(None, kind, text))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        if tag in _SKIP:
            if tag not in _VOID:
                self._skip += 1
            return
        if self._skip:
            return
        if tag in _BLOCK or tag in ("td", "th"):
            self._flush()
        if tag == "table":
            self._table_depth += 1
        elif tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self._kinds.append("heading")
        elif tag == "li":
            self._kinds.append("list_item")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if tag in _SKIP:
            self._skip = max(0, self._skip - 1)
            return
        if self._skip:
            return
        if tag in _BLOCK or tag in ("td", "th"):
            self._flush()
        if tag == "tr" and self._cells:
            self._rows.append(" | ".join(self._cells))
            self._cells = []
        if tag == "table" and self._table_depth:
            self._table_depth -= 1
            if not self._table_depth and self._rows:
                self.blocks.append(RawBlock(None, "table", "\n".join(self._rows)))
                self._rows = []
        if (tag in ("h1", "h2", "h3", "h4", "h5", "h6") and self._kind() == "heading") or (
                tag == "li" and self._kind() == "list_item"):
            self._kinds.pop()

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        if not self._skip:
            self._text.append(data)

    def close(self) -> None:
        super().close()
        self._flush()


def read_html(path: Path, data: bytes, sha256: str) -> Document:
    parser = _HtmlBlocks()
    parser.feed(decode(data))
    parser.close()
    title = " ".join(parser.title.split()) or next(
        (b.text for b in parser.blocks if b.kind == "heading"), None)
    return _document(path, sha256, parser.blocks, title, {"title": title} if title else {})
