"""HTML → blocks, with the standard library's ``html.parser`` (no extra dependency).

Only text and structure are kept: ``h1``–``h6`` become headings, ``li`` list
items, table rows a table block, everything else paragraphs. Scripts, styles,
templates, SVG, forms' controls and navigation never reach the text. When a page
has a ``<main>`` or ``<article>``, the page chrome around it (``<header>``,
``<footer>``, ``<aside>``) is dropped too: only the content the page marks as its
own is read. (``trafilatura`` guesses the content of pages that mark nothing, but
its guesses also drop policy text such as short articles; a policy page that
marks its content is read exactly.)
"""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

from policylens.extract.document import BlockKind, Document
from policylens.extract.structure import RawBlock, classify_text
from policylens.extract.text import decode, make_document

# Never text, wherever they are: code, styling, templates, drawings, embedded objects.
_SKIP = {"script", "style", "noscript", "template", "svg", "math", "head", "nav", "iframe", "object",
         "canvas", "select", "textarea", "button"}
# Page chrome, dropped outside the page's <main>/<article> when it has one.
_CHROME = {"header", "footer", "aside"}
_CONTENT = {"main", "article"}
_BLOCK = {"p", "div", "section", "article", "main", "header", "footer", "aside", "ul", "ol", "li",
          "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "dd", "dt", "dl", "figcaption",
          "table", "tr", "form", "address", "hr", "br", "body", "html", "details", "summary"}
_VOID = {"br", "hr", "img", "meta", "link", "input", "area", "base", "col", "embed", "source", "wbr",
         "param", "track"}
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}


class _FindContent(HTMLParser):
    """Does the page have a ``<main>`` or ``<article>`` element (not merely the word in a script)?"""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found = self.found or tag in _CONTENT


class HtmlBlocks(HTMLParser):
    """Collects ``RawBlock``s (and the page title) from HTML fed to it.

    ``content_only`` drops ``header``/``footer``/``aside`` outside ``main``/``article``
    (``read_html`` sets it when the page has either).
    """

    def __init__(self, *, content_only: bool = False) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[RawBlock] = []
        self.title = ""
        self.content_only = content_only
        self._skipping: list[str] = []  # open elements whose text is never read, innermost last
        self._content = 0  # depth inside <main>/<article>
        self._title_state = 0  # 0 before the first <title>, 1 inside it, 2 after it
        self._text: list[str] = []
        self._kinds: list[BlockKind] = []
        self._rows: list[str] = []
        self._cells: list[str] = []
        self._table_depth = 0

    def _kind(self) -> BlockKind:
        return self._kinds[-1] if self._kinds else "paragraph"

    def _skips(self, tag: str) -> bool:
        return tag in _SKIP or (self.content_only and not self._content and tag in _CHROME)

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
        if tag == "title" and self._title_state == 0:
            self._title_state = 1  # only the page's own title: an SVG's <title> is an icon's name
        if tag in _VOID:
            if not self._skipping and tag in _BLOCK:
                self._flush()
            return
        if self._skipping:
            if tag in _SKIP or tag in _CHROME:  # so that its end tag does not end the outer skip
                self._skipping.append(tag)
            return
        if self._skips(tag):
            self._flush()
            self._skipping.append(tag)
            return
        if tag in _BLOCK or tag in ("td", "th"):
            self._flush()
        if tag in _CONTENT:
            self._content += 1
        if tag == "sup" and "".join(self._text)[-1:].isdigit():
            self._text.append("^")  # 10<sup>26</sup> is 10^26, not 1026
        if tag == "table":
            self._table_depth += 1
        elif tag in _HEADINGS:
            self._kinds.append("heading")
        elif tag == "li":
            self._kinds.append("list_item")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # <script/>, <div/>: nothing opens, so nothing must be skipped until a close
        if tag in _BLOCK and not self._skipping:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag == "title" and self._title_state == 1:
            self._title_state = 2
        if tag in _VOID:
            return
        if self._skipping:
            if tag in self._skipping:  # an inner element left open ends with the one around it
                del self._skipping[len(self._skipping) - 1 - self._skipping[::-1].index(tag):]
            return
        if tag in _BLOCK or tag in ("td", "th"):
            self._flush()
        if tag in _CONTENT and self._content:
            self._content -= 1
        if tag == "tr" and self._cells:
            self._rows.append(" | ".join(self._cells))
            self._cells = []
        if tag == "table" and self._table_depth:
            self._table_depth -= 1
            if not self._table_depth and self._rows:
                self.blocks.append(RawBlock(None, "table", "\n".join(self._rows)))
                self._rows = []
        if (tag in _HEADINGS and self._kind() == "heading") or (tag == "li" and self._kind() == "list_item"):
            self._kinds.pop()

    def handle_data(self, data: str) -> None:
        if self._title_state == 1:
            self.title += data
            return
        if not self._skipping:
            self._text.append(data)

    def close(self) -> None:
        super().close()
        self._flush()


def html_blocks(html: str, *, content_only: bool | None = None) -> tuple[list[RawBlock], str]:
    """The blocks and ``<title>`` of an HTML page or fragment.

    ``content_only=None`` decides by the page: on when it has ``<main>`` or ``<article>``.
    """
    if content_only is None:
        finder = _FindContent()
        finder.feed(html)
        finder.close()
        content_only = finder.found
    parser = HtmlBlocks(content_only=content_only)
    parser.feed(html)
    parser.close()
    return parser.blocks, " ".join(parser.title.split())


def read_html(path: Path, data: bytes, sha256: str) -> Document:
    blocks, title = html_blocks(decode(data))
    title = title or next((b.text for b in blocks if b.kind == "heading"), "")
    return make_document(path, sha256, blocks, title or None, {"title": title} if title else {})
