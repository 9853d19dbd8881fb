"""Markdown and HTML read for their text and structure only, whatever markup they hold.

Each case below broke the hand-written Markdown rules (HTML and entities in the
text, setext headings lost, code read as prose, the rest of a document lost to an
unclosed fence, list items of pictures gone) or let page chrome into the text.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from policylens.extract import Document, extract


def _md(tmp_path: Path, text: str) -> Document:
    path = tmp_path / "doc.md"
    path.write_text(text, encoding="utf-8")
    return extract(path)


def _html(tmp_path: Path, text: str) -> Document:
    path = tmp_path / "page.html"
    path.write_text(text, encoding="utf-8")
    return extract(path)


def _blocks(document: Document) -> list[tuple[str, str]]:
    return [(b.kind, b.text) for b in document.blocks]


def test_markdown_inline_and_block_html_is_stripped_to_its_text(tmp_path: Path) -> None:
    document = _md(tmp_path, (
        "# Order on Oversight\n\n"
        'Each agency <span style="color:red">shall name</span> a <b>chief officer</b>.<br>'
        "It reports <script>steal(document.cookie)</script>yearly.\n\n"
        '<div align="center">\n<p>Signed at the <i>Capitol</i>.</p>\n'
        "<script>\nvar tracker = 1;\n</script>\n<style>p { color: red }</style>\n</div>\n\n"
        "Closing words <!-- an editor's note --> here.\n"
    ))
    assert _blocks(document) == [
        ("heading", "Order on Oversight"),
        ("paragraph", "Each agency shall name a chief officer. It reports yearly."),
        ("paragraph", "Signed at the Capitol."),
        ("paragraph", "Closing words here."),
    ]
    for leaked in ("<", "style", "steal", "tracker", "color", "editor"):
        assert leaked not in document.text


def test_powers_stay_powers_when_superscripts_are_stripped(tmp_path: Path) -> None:
    line = "Models trained with more than 10<sup>26</sup> operations, see note<sup>3</sup>."
    expected = "Models trained with more than 10^26 operations, see note3."
    assert _md(tmp_path, line + "\n").blocks[0].text == expected
    assert _html(tmp_path, f"<html><body><p>{line}</p></body></html>").blocks[0].text == expected


def test_markdown_entities_are_decoded(tmp_path: Path) -> None:
    document = _md(tmp_path, "Rules &amp; duties for the caf&eacute; sector &#8212; "
                             "and &quot;others&quot;.\n")
    assert document.blocks[0].text == 'Rules & duties for the café sector — and "others".'


def test_markdown_setext_headings_are_headings(tmp_path: Path) -> None:
    document = _md(tmp_path, "National Strategy\n=================\n\nIntro text here.\n\n"
                             "Oversight\n---------\n\nEach regulator keeps its remit.\n")
    assert _blocks(document) == [("heading", "National Strategy"), ("paragraph", "Intro text here."),
                                 ("heading", "Oversight"), ("paragraph", "Each regulator keeps its remit.")]
    assert document.blocks[3].section == "Oversight"


def test_markdown_indented_code_is_not_prose(tmp_path: Path) -> None:
    document = _md(tmp_path, "The registry is kept as follows.\n\n    registry = open_registry()\n"
                             "    registry.add(system)\n\nThe office reviews it yearly.\n")
    assert _blocks(document) == [("paragraph", "The registry is kept as follows."),
                                 ("paragraph", "The office reviews it yearly.")]


def test_markdown_unclosed_fence_does_not_swallow_the_rest(tmp_path: Path,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="policylens"):
        document = _md(tmp_path, "# Plan\n\nFirst part.\n\n```\nA sector regulator keeps its powers.\n\n"
                                 "## Later\n\nThe rest of the plan is here.\n")
    assert _blocks(document) == [("heading", "Plan"), ("paragraph", "First part."),
                                 ("paragraph", "A sector regulator keeps its powers."),
                                 ("heading", "Later"), ("paragraph", "The rest of the plan is here.")]
    assert any("never closed" in r.getMessage() and "line 5" in r.getMessage() for r in caplog.records)


def test_markdown_nested_fences_do_not_leak(tmp_path: Path) -> None:
    document = _md(tmp_path, "Before the example.\n\n````markdown\nHow to write code:\n\n```python\n"
                             "print('x')\n```\n\nStill inside the outer fence.\n````\n\nAfter the example.\n")
    assert _blocks(document) == [("paragraph", "Before the example."), ("paragraph", "After the example.")]


def test_markdown_image_only_list_items_keep_their_description(tmp_path: Path) -> None:
    document = _md(tmp_path, "Members:\n\n- ![Flag of the Ferrow Islands](flag.png)\n- The Sallow Cantons\n"
                             "- [![Seal of Pemberly](seal.png)](https://example.org)\n- ![](spacer.gif)\n\n"
                             "Text with an ![inline icon](i.png) picture.\n")
    assert _blocks(document) == [
        ("paragraph", "Members:"),
        ("list_item", "Flag of the Ferrow Islands"),
        ("list_item", "The Sallow Cantons"),
        ("list_item", "Seal of Pemberly"),
        ("paragraph", "Text with an picture."),
    ]


def test_markdown_nested_lists_keep_their_order(tmp_path: Path) -> None:
    document = _md(tmp_path, "- parent item\n  - child item\n- next item\n")
    assert _blocks(document) == [("list_item", "parent item"), ("list_item", "child item"),
                                 ("list_item", "next item")]


PAGE = """<!DOCTYPE html><html><head><title>Agency &amp; Rules</title>
<script>var analytics = 1;</script><style>body {{ margin: 0 }}</style></head><body>
<header><p>Skip to content. Site banner text.</p></header>
<nav><ul><li>Home<li>About</ul></nav>
<aside><p>Related: other news.</p></aside>
{content}
<footer><p>Copyright notice and cookie settings.</p></footer>
</body></html>"""
CONTENT = """<{tag}><header><h1>Rules on Oversight</h1></header>
<p>Each sector regulator keeps its remit.</p>
<aside><p>Sidebar inside the content stays.</p></aside>
<template><p>Hidden template text</p></template>
<SCRIPT type="application/ld+json">{{"name": "structured data"}}</SCRIPT>
<svg><title>icon name</title><text>drawn label</text></svg>
<p>The board publishes guidance.</p></{tag}>"""


@pytest.mark.parametrize("tag", ["main", "article"])
def test_html_main_or_article_drops_page_chrome_around_it(tmp_path: Path, tag: str) -> None:
    document = _html(tmp_path, PAGE.format(content=CONTENT.format(tag=tag)))
    assert document.title == "Agency & Rules"
    assert _blocks(document) == [
        ("heading", "Rules on Oversight"),
        ("paragraph", "Each sector regulator keeps its remit."),
        ("paragraph", "Sidebar inside the content stays."),
        ("paragraph", "The board publishes guidance."),
    ]


def test_html_without_main_keeps_header_and_footer_but_never_code(tmp_path: Path) -> None:
    content = CONTENT.format(tag="div")
    document = _html(tmp_path, PAGE.format(content=content))
    assert document.title == "Agency & Rules"  # not joined with the SVG icon's <title>
    texts = [text for _, text in _blocks(document)]
    assert "Skip to content. Site banner text." in texts  # no <main>: nothing says what is chrome
    assert "Copyright notice and cookie settings." in texts
    for leaked in ("analytics", "margin", "Home", "Hidden template", "structured data", "icon name",
                   "drawn label"):
        assert leaked not in document.text


def test_html_unclosed_script_and_stray_end_tags_leak_nothing(tmp_path: Path) -> None:
    document = _html(tmp_path, "<html><body><main><p>Kept text.</p></span></div>"
                               "<nav><p>menu<p>more</nav><p>Also kept.</p>"
                               "<script>var never = 'closed';")
    assert _blocks(document) == [("paragraph", "Kept text."), ("paragraph", "Also kept.")]
