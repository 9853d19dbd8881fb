"""Plain text, Markdown and HTML sources give the same block model as PDFs."""

from __future__ import annotations

from pathlib import Path

from extract_samples import paragraph, word_ratio
from policylens.extract import extract, render


def test_plain_text_paragraphs_items_and_legal_headings(tmp_path: Path) -> None:
    path = tmp_path / "rules.txt"
    path.write_text(
        "Model Rules on Scoring\n\n"
        "Article 1\nScope\n\n"
        f"{paragraph(0, 2)}\nIt covers the regu-\nlation of tools.\n\n"
        "(a) the first duty;\n(b) the second duty.\n"
    )
    document = extract(path)
    kinds = [(b.kind, b.text[:20]) for b in document.blocks]
    assert kinds[0] == ("heading", "Model Rules on Scori")
    assert document.title == "Model Rules on Scoring"
    assert document.blocks[1].text == "Article 1 Scope"
    assert document.blocks[1].kind == "heading"
    assert "the regulation of tools." in document.blocks[2].text
    assert document.blocks[2].section == "Article 1 Scope"
    assert [b.kind for b in document.blocks[3:]] == ["list_item", "list_item"]
    assert all(b.page is None for b in document.blocks)
    assert document.n_pages == 0


def test_markdown_front_matter_headings_lists_and_footnotes(tmp_path: Path) -> None:
    path = tmp_path / "guide.md"
    path.write_text(
        "---\ntitle: \"Guide to Sector Oversight\"\nyear: 2024\n---\n\n"
        "# Introduction\n\n"
        "Each **sector** regulator keeps its [own](https://example.org) rules.[^1]\n"
        "It reports yearly.\n\n"
        "- first item\n- second item\n  continues here\n\n"
        "```\ncode is skipped\n```\n\n"
        "| Body | Role |\n|---|---|\n| Office | Registry |\n\n"
        "[^1]: A note written by us.\n"
    )
    document = extract(path)
    assert document.title == "Guide to Sector Oversight"
    assert document.metadata["year"] == "2024"
    assert [(b.kind, b.text) for b in document.blocks] == [
        ("heading", "Introduction"),
        ("paragraph", "Each sector regulator keeps its own rules. It reports yearly."),
        ("list_item", "first item"),
        ("list_item", "second item continues here"),
        ("table", "Body | Role\nOffice | Registry"),
        ("footnote", "A note written by us."),
    ]
    markdown = render(document, "markdown")
    assert markdown.startswith("# Guide to Sector Oversight\n")
    assert "- first item" in markdown
    assert markdown.index("## Footnotes") < markdown.index("A note written by us.")


def test_html_markup_stripped_scripts_dropped_headings_kept(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    body = paragraph(0, 3)
    path.write_text(
        "<!DOCTYPE html><html><head><title>Agency Page</title><style>p{color:red}</style>"
        "<script>var secret = 'do not show';</script></head><body>"
        "<nav><a href='/'>Home</a></nav>"
        f"<h1>Oversight &amp; Audit</h1><p>{body}</p>"
        "<ul><li>one <b>bold</b> item</li><li>two</li></ul>"
        "<table><tr><th>Body</th><th>Role</th></tr><tr><td>Office</td><td>Registry</td></tr></table>"
        "<script>alert(1)</script></body></html>"
    )
    document = extract(path)
    assert document.title == "Agency Page"
    assert document.blocks[0].kind == "heading" and document.blocks[0].text == "Oversight & Audit"
    assert word_ratio(body, document.blocks[1].text) == 1.0
    assert document.blocks[1].section == "Oversight & Audit"
    assert [b.text for b in document.blocks if b.kind == "list_item"] == ["one bold item", "two"]
    assert any(b.kind == "table" and b.text == "Body | Role\nOffice | Registry" for b in document.blocks)
    assert "secret" not in document.text and "alert" not in document.text and "Home" not in document.text
