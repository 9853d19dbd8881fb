"""Markdown → blocks, parsed by ``markdown-it-py`` (CommonMark, plus tables and footnotes).

Only text and structure are kept: ATX and setext headings become headings, list
items list items, tables table blocks, footnote definitions footnotes, the rest
paragraphs. Code (fenced or indented) is not policy prose and is left out. HTML
in the Markdown is reduced to its text the way HTML pages are (``policylens.
extract.html``): tags go, scripts and styles never reach the text, entities are
decoded. An image stands for its alt text only when it is all a paragraph or a
list item holds, so an item of pictures does not vanish from a list.

A code fence that is never closed would, by CommonMark, swallow the rest of the
document; such a fence is read as text instead (with a warning), so a stray
```` ``` ```` loses nothing.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.footnote import footnote_plugin

from policylens.extract.document import BlockKind, Document
from policylens.extract.html import html_blocks
from policylens.extract.structure import RawBlock, classify_text
from policylens.extract.text import decode, make_document

log = logging.getLogger(__name__)

# Inline HTML elements whose content is code or styling, never text.
_RAW_INLINE = {"script", "style", "template", "noscript", "textarea", "svg", "math"}
_TAG = re.compile(r"^<(/?)([A-Za-z][A-Za-z0-9-]*)[^>]*?(/?)>$", re.DOTALL)
_STRUCTURE = {"heading_open", "bullet_list_open", "ordered_list_open", "list_item_open", "list_item_close",
              "table_open", "html_block", "fence", "code_block", "blockquote_open", "footnote_open",
              "footnote_close", "hr"}


def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": True}).enable("table").use(footnote_plugin)


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


def parse_markdown(text: str, *, where: str = "markdown") -> list[RawBlock]:
    """The blocks of a Markdown text (without front matter)."""
    md = _parser()
    lines = text.split("\n")
    for _ in range(len(lines) + 1):  # each round reads one unclosed fence as text
        tokens = md.parse("\n".join(lines))
        unclosed = _unclosed_fence(tokens, lines)
        if unclosed is None:
            return _blocks(tokens)
        log.warning("%s: the code fence on line %d is never closed; its lines are read as text",
                    where, unclosed + 1)
        lines[unclosed] = ""
    raise AssertionError("unreachable: every round removes one fence")  # pragma: no cover


def _unclosed_fence(tokens: Sequence[Token], lines: Sequence[str]) -> int | None:
    """The line of the first fence that runs to the end of its container without a closing fence."""
    for token in tokens:
        if token.type != "fence" or token.map is None:
            continue
        start, end = token.map
        last = lines[end - 1].strip().lstrip(">").strip() if end - 1 > start else ""
        closed = (last[:1] == token.markup[:1] and len(last) >= len(token.markup)
                  and set(last) == {token.markup[0]})
        if not closed:
            return start
    return None


def _blocks(tokens: Sequence[Token]) -> list[RawBlock]:
    blocks: list[RawBlock] = []
    containers: list[str] = []  # open list items and footnotes, innermost last
    pending: list[str] = []  # text of the open list item or footnote, not yet a block
    heading = in_cell = False
    rows: list[str] = []
    cells: list[str] = []

    def flush() -> None:
        kind: BlockKind = "footnote" if containers and containers[-1] == "footnote" else "list_item"
        text = " ".join(" ".join(pending).split())
        if text:
            blocks.append(RawBlock(None, kind, text))
        pending.clear()

    for token in tokens:
        kind = token.type
        if kind in _STRUCTURE:
            flush()
        if kind == "heading_open":
            heading = True
        elif kind == "heading_close":
            heading = False
        elif kind in ("list_item_open", "footnote_open"):
            containers.append("list_item" if kind == "list_item_open" else "footnote")
        elif kind in ("list_item_close", "footnote_close") and containers:
            containers.pop()
        elif kind in ("th_open", "td_open", "th_close", "td_close"):
            in_cell = kind.endswith("_open")
        elif kind == "tr_close":
            if any(cells):
                rows.append(" | ".join(cells))
            cells = []
        elif kind == "table_close":
            if rows:
                blocks.append(RawBlock(None, "table", "\n".join(rows)))
            rows = []
        elif kind == "html_block":
            blocks.extend(html_blocks(token.content, content_only=False)[0])
        elif kind == "inline":
            text = inline_text(token.children or [])
            if in_cell:
                cells.append(text)
            elif not text:
                continue
            elif heading:
                blocks.append(RawBlock(None, "heading", text))
            elif containers:
                pending.append(text)
            else:
                blocks.append(RawBlock(None, classify_text(text), text))
    flush()
    return blocks


def inline_text(children: Sequence[Token]) -> str:
    """The plain text of an inline token's children: no markup, HTML tags, code spans' backticks."""
    images = [c for c in children if c.type == "image"]
    others = [c for c in children if c.type not in ("image", "link_open", "link_close", "softbreak")
              and not (c.type == "text" and not c.content.strip())]
    if images and not others:  # a picture alone stands for its description
        return " ".join(" ".join(img.content for img in images).split())
    out: list[str] = []
    raw: list[str] = []  # open <script>, <style>... inside the paragraph
    for child in children:
        kind = child.type
        if kind in ("softbreak", "hardbreak"):
            out.append(" ")
        elif kind == "html_inline":
            tag = _TAG.match(child.content.strip())
            if tag is None:
                continue  # a comment or a declaration
            closing, name, self_closing = tag.group(1), tag.group(2).lower(), tag.group(3)
            if name in _RAW_INLINE and not self_closing:
                if closing and name in raw:
                    del raw[len(raw) - 1 - raw[::-1].index(name):]
                elif not closing:
                    raw.append(name)
            elif name == "br":
                out.append(" ")
            elif name == "sup" and not closing and "".join(out)[-1:].isdigit():
                out.append("^")  # 10<sup>26</sup> is 10^26, not 1026
        elif raw:
            continue
        elif kind in ("text", "code_inline"):
            out.append(child.content)
    return " ".join("".join(out).split())


def read_markdown(path: Path, data: bytes, sha256: str) -> Document:
    metadata, text = front_matter(decode(data))
    blocks = parse_markdown(text, where=str(path))
    title = metadata.get("title") or next((b.text for b in blocks if b.kind == "heading"), None)
    return make_document(path, sha256, blocks, title, metadata)
