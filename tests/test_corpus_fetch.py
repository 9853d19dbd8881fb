"""The fetcher against a real loopback HTTP server: 304s, retries, caps, sniffing."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from policylens.corpus.fetch import Fetcher, FetchSettings, content_kind
from policylens.corpus.manifest import ManifestEntry
from policylens.corpus.objects import ObjectStore
from policylens.corpus.store import Version
from policylens.errors import FetchError
from policylens.extract import extract
from policylens.extract.reader import sniff
from test_corpus_helpers import CENTRAL, PolicyServer, Resource, pdf_bytes

PDF = pdf_bytes(CENTRAL, title="Fetch test")


@pytest.fixture(scope="module")
def server() -> Iterator[PolicyServer]:
    with PolicyServer() as running:
        yield running


@pytest.fixture()
def fetcher(tmp_path: Path) -> Iterator[Fetcher]:
    settings = FetchSettings(timeout=0.5, retries=2, backoff=0.01, max_bytes=200_000, concurrency=4)
    with Fetcher(ObjectStore(tmp_path / "objects"), settings) as running:
        yield running


def _entry(url: str, doc_id: str = "doc", **more: object) -> ManifestEntry:
    return ManifestEntry(id=doc_id, title="T", jurisdiction="XX", year=2024, doc_type="law", url=url, **more)


def _version(result_sha: str, etag: str | None, last_modified: str | None = None) -> Version:
    return Version(id=1, document_id="doc", sha256=result_sha, fetched_at="", size=0, source="",
                   etag=etag, last_modified=last_modified)


def test_new_then_not_modified_then_changed(server: PolicyServer, fetcher: Fetcher) -> None:
    resource = server.resources["/a.pdf"] = Resource(PDF)
    first = fetcher.fetch(_entry(server.url("/a.pdf")))
    assert first.status == "changed" and first.fetched is not None
    assert first.fetched.kind == "pdf" and first.fetched.etag == resource.etag
    assert fetcher.objects.read(first.fetched.sha256) == PDF
    assert "If-None-Match" not in server.requests_for("/a.pdf")[-1]

    previous = _version(first.fetched.sha256, first.fetched.etag, first.fetched.last_modified)
    second = fetcher.fetch(_entry(server.url("/a.pdf")), previous)
    assert second.status == "unchanged" and second.fetched is None  # a 304: no body sent
    sent = server.requests_for("/a.pdf")[-1]
    assert sent["If-None-Match"] == resource.etag and "If-Modified-Since" in sent

    resource.update(pdf_bytes(CENTRAL[:1], title="Fetch test, amended"))
    third = fetcher.fetch(_entry(server.url("/a.pdf")), previous)
    assert third.status == "changed" and third.fetched.sha256 != first.fetched.sha256


def test_conditional_request_skipped_when_object_is_missing(server: PolicyServer, fetcher: Fetcher) -> None:
    server.resources["/gone.pdf"] = Resource(PDF)
    previous = _version("0" * 64, '"whatever"')  # the store lost the raw file: fetch it in full
    result = fetcher.fetch(_entry(server.url("/gone.pdf")), previous)
    assert result.status == "changed"
    assert "If-None-Match" not in server.requests_for("/gone.pdf")[-1]


@pytest.mark.parametrize(("path", "resource", "reason"), [
    ("/missing.pdf", None, "HTTP 404"),
    ("/error.pdf", Resource(b"boom", status=500), "HTTP 500"),
    ("/slow.pdf", Resource(PDF, delay=1.5), "timed out"),
    ("/garbage.pdf", Resource(bytes(range(256)) * 8), "no %PDF- header"),
    ("/login.pdf", Resource(b"<!DOCTYPE html><html><body>Please sign in</body></html>"), "HTML page"),
    ("/typed", Resource(b"<html><body>Error</body></html>", content_type="application/pdf"), "HTML page"),
    ("/binary.txt", Resource(b"\x00\x01\x02binary" * 50, content_type="application/octet-stream"),
     "not a PDF, HTML or text"),
    ("/empty.pdf", Resource(b""), "empty body"),
])
def test_bad_responses_fail_with_a_reason(server: PolicyServer, fetcher: Fetcher, path: str,
                                          resource: Resource | None, reason: str) -> None:
    if resource is not None:
        server.resources[path] = resource
    result = fetcher.fetch(_entry(server.url(path)))
    assert result.status == "failed"
    assert reason in (result.error or "")
    assert list(fetcher.objects.root.rglob(".incoming-*")) == []  # no partial object left behind


def test_server_errors_are_retried_then_succeed(server: PolicyServer, fetcher: Fetcher) -> None:
    server.resources["/flaky.pdf"] = Resource(PDF, fail_first=2)
    result = fetcher.fetch(_entry(server.url("/flaky.pdf")))
    assert result.status == "changed"
    assert len(server.requests_for("/flaky.pdf")) == 3


def test_retries_are_bounded(server: PolicyServer, fetcher: Fetcher) -> None:
    server.resources["/down.pdf"] = Resource(PDF, fail_first=100)
    result = fetcher.fetch(_entry(server.url("/down.pdf")))
    assert result.status == "failed" and "gave up after 3 attempts" in (result.error or "")
    assert len(server.requests_for("/down.pdf")) == 3


def test_size_cap_from_header_and_while_streaming(server: PolicyServer, fetcher: Fetcher) -> None:
    big = b"%PDF-1.4\n" + b"x" * 300_000
    server.resources["/big.pdf"] = Resource(big)
    server.resources["/big-stream.pdf"] = Resource(big, send_length=False)
    announced = fetcher.fetch(_entry(server.url("/big.pdf")))
    assert announced.status == "failed" and "announces 300009 bytes" in (announced.error or "")
    streamed = fetcher.fetch(_entry(server.url("/big-stream.pdf")))
    assert streamed.status == "failed" and "passed the 200000-byte limit" in (streamed.error or "")
    assert list(fetcher.objects.root.rglob(".incoming-*")) == []


def test_manifest_sha256_pin_is_enforced(server: PolicyServer, fetcher: Fetcher) -> None:
    server.resources["/pinned.pdf"] = Resource(PDF)
    result = fetcher.fetch(_entry(server.url("/pinned.pdf"), sha256="0" * 64))
    assert result.status == "failed" and "does not match the manifest" in (result.error or "")


def test_local_paths_are_hashed_and_copied(tmp_path: Path, fetcher: Fetcher) -> None:
    path = tmp_path / "local.md"
    path.write_text("# Title\n\nOne central authority licenses all systems.\n", encoding="utf-8")
    entry = ManifestEntry(id="local", title="T", jurisdiction="XX", year=2024, doc_type="law", path=path)
    first = fetcher.fetch(entry)
    assert first.status == "changed" and first.fetched.kind == "md"
    assert fetcher.objects.read(first.fetched.sha256) == path.read_bytes()
    again = fetcher.fetch(entry, _version(first.fetched.sha256, None))
    assert again.status == "unchanged"
    missing = fetcher.fetch(ManifestEntry(id="m", title="T", jurisdiction="XX", year=2024, doc_type="law",
                                          path=tmp_path / "nope.txt"))
    assert missing.status == "failed" and "no such file" in (missing.error or "")


def test_fetch_all_is_concurrent_and_complete(server: PolicyServer, fetcher: Fetcher) -> None:
    for i in range(10):
        server.resources[f"/many/{i}.pdf"] = Resource(pdf_bytes([CENTRAL[i % 3], f"Item {i}."]))
    entries = [_entry(server.url(f"/many/{i}.pdf"), doc_id=f"d{i}") for i in range(10)]
    results = list(fetcher.fetch_all(entries, {}))
    assert sorted(r.id for r in results) == sorted(e.id for e in entries)
    assert all(r.status == "changed" for r in results)


def test_downloads_from_one_host_are_bounded_by_per_host(server: PolicyServer, tmp_path: Path) -> None:
    # polite to each server: at most `per_host` downloads from one host, `concurrency` in all
    lock, ready = threading.Lock(), threading.Event()
    inflight: dict[str, int] = {}
    peaks: dict[str, int] = {}

    def hold(host: str) -> None:
        with lock:
            inflight[host] = inflight.get(host, 0) + 1
            peaks[host] = max(peaks.get(host, 0), inflight[host])
            if sum(inflight.values()) >= 4:  # both hosts at their bound
                ready.set()
        ready.wait(timeout=10)  # hold each answer until the bounds are reached (or give up)
        with lock:
            inflight[host] -= 1

    entries = []
    for host in ("127.0.0.1", "localhost"):
        for i in range(6):
            path = f"/polite/{host}/{i}.pdf"
            server.resources[path] = Resource(PDF, hold=lambda host=host: hold(host))
            entries.append(_entry(server.url(path).replace("127.0.0.1", host), doc_id=f"{host}-{i}"))
    settings = FetchSettings(timeout=30, retries=0, concurrency=8, per_host=2)
    with Fetcher(ObjectStore(tmp_path / "objects"), settings) as polite:
        results = list(polite.fetch_all(entries, {}))
    assert all(r.status == "changed" for r in results) and len(results) == 12
    assert peaks == {"127.0.0.1": 2, "localhost": 2}


def test_content_kind_rules() -> None:
    assert content_kind(b"%PDF-1.7", suffix="") == "pdf"
    assert content_kind(b"%PDF-1.7", suffix=".html") == "pdf"  # the bytes win when they are a PDF
    assert content_kind(b"<html><p>x</p></html>", content_type="text/html; charset=utf-8") == "html"
    assert content_kind(b"<p>fragment</p>", suffix=".htm") == "html"
    assert content_kind(b"<body><p>no html tag</p></body>", suffix="") == "html"
    assert content_kind(b"# Heading\n", suffix=".md") == "md"
    assert content_kind("Plain text with ünïcode".encode(), suffix="") == "txt"
    with pytest.raises(FetchError, match="HTML page"):
        content_kind(b"\n  <!doctype html>", content_type="application/pdf")
    with pytest.raises(FetchError, match="not a PDF, HTML or text"):
        content_kind(b"PK\x03\x04word-document", suffix=".txt")


@pytest.mark.parametrize("head", [
    b"%PDF-1.4\n", b"<!doctype html><p>x", b"<body>x</body>", b"<?xml version='1.0'?><html/>",
    b"\x89PNG\r\n\x1a\n", b"PK\x03\x04zip", b"text\x00with a NUL", "caf\xe9 au lait".encode("cp1252"),
    "Plain text with ünïcode".encode(),
])
def test_fetch_and_extract_agree_on_what_bytes_are(head: bytes) -> None:
    # one sniffer: whatever extraction calls binary the fetcher refuses, and the rest it names the same
    found = sniff(head)
    if found == "binary":
        with pytest.raises(FetchError):
            content_kind(head)
    else:
        assert content_kind(head) == (found or "txt")


def test_windows_1252_text_is_fetched_because_extraction_reads_it(server: PolicyServer, fetcher: Fetcher,
                                                                    tmp_path: Path) -> None:
    # regression: the fetcher had its own sniffer that refused any text that was not UTF-8,
    # so a refresh failed documents that `policylens extract` reads (it falls back to cp1252)
    data = "Die Aufsichtsbehörde prüft jedes System – zentral.\n".encode("cp1252")
    server.resources["/note.txt"] = Resource(data, content_type="text/plain")
    result = fetcher.fetch(_entry(server.url("/note.txt")))
    assert result.status == "changed" and result.fetched is not None and result.fetched.kind == "txt"
    stored = tmp_path / "note.txt"
    stored.write_bytes(fetcher.objects.read(result.fetched.sha256))
    assert "Aufsichtsbehörde prüft" in extract(stored).text
