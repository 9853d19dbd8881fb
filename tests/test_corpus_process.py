"""The per-document work of a refresh is ``policylens.rank.analyze`` under the manifest's name."""

from __future__ import annotations

from pathlib import Path

from policylens.corpus.process import WorkItem, process_document, process_file, run_item
from policylens.rank.analysis import analyze, analyze_document
from test_corpus_helpers import CENTRAL, SECTORAL, pdf_bytes


def test_process_file_is_rank_analyze_with_the_manifest_title_and_source(tmp_path: Path) -> None:
    path = tmp_path / "framework.pdf"
    path.write_bytes(pdf_bytes(CENTRAL + SECTORAL, title="Title the PDF carries"))
    source = "https://example.org/framework.pdf"

    analysis = analyze(path, title="Title the manifest gives", source=source)
    assert analysis.document.title == analysis.tagged.title == "Title the manifest gives"
    assert analysis.document.source == analysis.tagged.source == source
    assert analysis.document.metadata["extracted_title"] == analyze(path).document.title

    assert process_file(path, source=source, title="Title the manifest gives") == (
        analysis.document, analysis.tagged, analysis.score)
    item = WorkItem(doc_id="framework", source=source, title="Title the manifest gives", kind="pdf",
                    path=str(path))
    assert run_item(item) == (analysis.document, analysis.tagged, analysis.score)

    again = analyze_document(analysis.document)
    assert process_document(analysis.document) == (again.tagged, again.score) == (analysis.tagged,
                                                                                   analysis.score)


def test_analyze_keeps_the_extracted_title_when_no_title_is_given(tmp_path: Path) -> None:
    path = tmp_path / "framework.pdf"
    path.write_bytes(pdf_bytes(CENTRAL, title="Only the PDF title"))
    document = analyze(path, title="").document  # an empty title is no override
    assert document.source == str(path) and "extracted_title" not in document.metadata
