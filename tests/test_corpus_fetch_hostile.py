"""The fetcher against hostile servers on loopback: trickles, compression bombs, bad redirects.

Two real servers: one on 127.0.0.1 and one on 127.0.0.2 (all of 127.0.0.0/8 is
loopback). To play a public server redirecting into an internal one without
leaving loopback, some tests tell the fetcher that only 127.0.0.2 is non-public.
"""

from __future__ import annotations

import functools
import gzip
import tracemalloc
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from policylens.corpus.download import non_public
from policylens.corpus.fetch import Fetcher, FetchSettings
from policylens.corpus.manifest import ManifestEntry
from policylens.corpus.objects import ObjectStore
from test_corpus_helpers import CENTRAL, PolicyServer, Resource, pdf_bytes

PDF = pdf_bytes(CENTRAL, title="Hostile servers")
LIMIT = 200_000


@pytest.fixture(scope="module")
def server() -> Iterator[PolicyServer]:
    with PolicyServer() as running:
        yield running


@pytest.fixture(scope="module")
def inner() -> Iterator[PolicyServer]:
    """A second server, on 127.0.0.2: the 'internal' service when the tests say so."""
    with PolicyServer(host="127.0.0.2") as running:
        yield running


def _fetcher(tmp_path: Path, *, internal_only: str | None = None, **settings: float) -> Fetcher:
    """A fetcher; with ``internal_only``, that one address is the only non-public one."""
    options = {"timeout": 10.0, "read_timeout": 5.0, "retries": 2, "backoff": 0.01,
               "max_bytes": LIMIT, **settings}
    kind = (lambda ip: "private" if ip == internal_only else None) if internal_only else non_public
    return Fetcher(ObjectStore(tmp_path / "objects"), FetchSettings(**options),  # type: ignore[arg-type]
                   address_kind=kind)


def _entry(url: str) -> ManifestEntry:
    return ManifestEntry(id="doc", title="T", jurisdiction="XX", year=2024, doc_type="law", url=url)


# --- a total deadline -------------------------------------------------------------


@pytest.mark.parametrize("part", ["headers", "body"])
def test_a_server_trickling_bytes_is_cut_off_at_the_total_deadline(server: PolicyServer, tmp_path: Path,
                                                                    part: str) -> None:
    # regression: --timeout bounded each read only, so a server sending a byte every 50 ms (well
    # within the read timeout) held the download, and the store's lock, for as long as it liked
    path = f"/trickle-{part}.pdf"
    server.resources[path] = Resource(PDF, trickle=part, trickle_every=0.05)  # a minute or more in all
    with _fetcher(tmp_path, timeout=1.0, read_timeout=0.5) as fetcher:
        result = fetcher.fetch(_entry(server.url(path)))
    assert result.status == "failed"
    assert "did not finish within 1 s" in (result.error or "")
    assert len(server.requests_for(path)) == 1  # the deadline is spent: no retry
    assert not list((tmp_path / "objects").rglob(".incoming-*"))


def test_a_silent_server_still_fails_at_the_read_timeout_and_is_retried(server: PolicyServer,
                                                                         tmp_path: Path) -> None:
    server.resources["/silent.pdf"] = Resource(PDF, delay=3.0)
    with _fetcher(tmp_path, timeout=10.0, read_timeout=0.2, retries=1) as fetcher:
        result = fetcher.fetch(_entry(server.url("/silent.pdf")))
    assert result.status == "failed" and "no answer for 0.2 s" in (result.error or "")
    assert "gave up after 2 attempts" in (result.error or "")


# --- compression bombs ----------------------------------------------------------------


@functools.cache
def _bomb(encoding: str, size: int = 100_000_000) -> bytes:
    """``size`` bytes of a PDF header and zeros, compressed (about 1,000 : 1), built in pieces."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31 if encoding == "gzip" else 15)
    parts = [packer.compress(b"%PDF-1.4\n")]
    zeros = bytes(1 << 20)
    parts += [packer.compress(zeros) for _ in range(size >> 20)]
    return b"".join([*parts, packer.flush()])


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_a_compression_bomb_stops_at_the_size_cap_without_expanding_in_memory(
        server: PolicyServer, tmp_path: Path, encoding: str) -> None:
    # regression: each 64 KB read of a gzip bomb was decoded whole (about 64 MB at once) before the
    # size cap was checked; six at a time took 1.6 GB with --max-bytes 2000000
    bomb = _bomb(encoding)
    assert len(bomb) < LIMIT  # the announced Content-Length passes the cap: only decoding can tell
    server.resources[f"/bomb-{encoding}.pdf"] = Resource(bomb, headers={"Content-Encoding": encoding})
    with _fetcher(tmp_path) as fetcher:
        tracemalloc.start()
        try:
            result = fetcher.fetch(_entry(server.url(f"/bomb-{encoding}.pdf")))
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert result.status == "failed" and f"passed the {LIMIT}-byte limit" in (result.error or "")
    assert peak < 4 * LIMIT, f"peak {peak / 1e6:.1f} MB"
    print(f"peak {peak / 1e6:.3f} MB")  # pieces of 64 KB, never the whole expansion


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "raw deflate"])
def test_compressed_documents_are_still_decoded(server: PolicyServer, tmp_path: Path, encoding: str) -> None:
    body = {"gzip": gzip.compress(PDF), "deflate": zlib.compress(PDF),
            "raw deflate": zlib.compress(PDF, wbits=-15)}[encoding]
    path = f"/packed-{encoding.replace(' ', '-')}.pdf"
    server.resources[path] = Resource(body, headers={"Content-Encoding": encoding.split()[-1]})
    with _fetcher(tmp_path) as fetcher:
        result = fetcher.fetch(_entry(server.url(path)))
        assert result.status == "changed" and result.fetched is not None
        assert fetcher.objects.read(result.fetched.sha256) == PDF


def test_an_unknown_content_encoding_is_refused(server: PolicyServer, tmp_path: Path) -> None:
    server.resources["/brotli.pdf"] = Resource(b"\x1b\x00\x00", headers={"Content-Encoding": "br"})
    with _fetcher(tmp_path) as fetcher:
        result = fetcher.fetch(_entry(server.url("/brotli.pdf")))
    assert result.status == "failed" and "unsupported Content-Encoding 'br'" in (result.error or "")
    assert len(server.requests_for("/brotli.pdf")) == 1


# --- redirects --------------------------------------------------------------------------


def test_a_redirect_to_a_file_url_is_refused_once_not_retried(server: PolicyServer, tmp_path: Path) -> None:
    # regression: the refusal was reported as a network error and retried
    server.resources["/to-file.pdf"] = Resource(status=302, headers={"Location": "file:///etc/passwd"})
    with _fetcher(tmp_path) as fetcher:
        result = fetcher.fetch(_entry(server.url("/to-file.pdf")))
    assert result.status == "failed"
    assert "refused a redirect to file://" in (result.error or "")
    assert "/etc/passwd: only http and https URLs are followed" in (result.error or "")
    assert len(server.requests_for("/to-file.pdf")) == 1


def test_a_public_server_cannot_redirect_into_an_internal_one(server: PolicyServer, inner: PolicyServer,
                                                              tmp_path: Path) -> None:
    inner.resources["/admin.pdf"] = Resource(PDF)
    server.resources["/to-inner.pdf"] = Resource(status=302, headers={"Location": inner.url("/admin.pdf")})
    with _fetcher(tmp_path, internal_only="127.0.0.2") as fetcher:
        result = fetcher.fetch(_entry(server.url("/to-inner.pdf")))
    assert result.status == "failed"
    assert f"refused a redirect to {inner.url('/admin.pdf')}: 127.0.0.2 is a private address" in (
        result.error or "")
    assert inner.requests_for("/admin.pdf") == []  # never connected
    assert len(server.requests_for("/to-inner.pdf")) == 1  # and not retried


def test_a_pooled_connection_to_an_internal_server_is_not_reused_for_a_public_redirect(
        server: PolicyServer, inner: PolicyServer, tmp_path: Path) -> None:
    inner.resources["/intranet.pdf"] = Resource(PDF)
    inner.resources["/secret.pdf"] = Resource(pdf_bytes(CENTRAL[:1], title="Secret"))
    server.resources["/to-secret.pdf"] = Resource(status=302, headers={"Location": inner.url("/secret.pdf")})
    with _fetcher(tmp_path, internal_only="127.0.0.2") as fetcher:
        # a manifest URL on the internal server itself may be fetched, and leaves a kept-alive connection
        assert fetcher.fetch(_entry(inner.url("/intranet.pdf"))).status == "changed"
        result = fetcher.fetch(_entry(server.url("/to-secret.pdf")))
    assert result.status == "failed" and "127.0.0.2 is a private address" in (result.error or "")
    assert inner.requests_for("/secret.pdf") == []


def test_redirects_stay_allowed_where_the_manifest_url_is(server: PolicyServer, inner: PolicyServer,
                                                          tmp_path: Path) -> None:
    inner.resources["/moved.pdf"] = Resource(status=301, headers={"Location": "/new/place.pdf"})
    inner.resources["/new/place.pdf"] = Resource(PDF)
    server.resources["/elsewhere.pdf"] = Resource(status=307, headers={"Location": inner.url("/moved.pdf")})
    # the manifest's URL is internal itself: it may redirect within its network
    with _fetcher(tmp_path, internal_only="127.0.0.2") as fetcher:
        assert fetcher.fetch(_entry(inner.url("/moved.pdf"))).status == "changed"
    # with the real address rules, all of loopback is one non-public network: a loopback manifest
    # URL may redirect to another loopback address, as it always could
    with _fetcher(tmp_path) as fetcher:
        result = fetcher.fetch(_entry(server.url("/elsewhere.pdf")))
        assert result.status == "changed" and result.fetched is not None
        assert fetcher.objects.read(result.fetched.sha256) == PDF


def test_redirect_loops_are_refused(server: PolicyServer, tmp_path: Path) -> None:
    server.resources["/loop.pdf"] = Resource(status=302, headers={"Location": "/loop.pdf"})
    with _fetcher(tmp_path) as fetcher:
        result = fetcher.fetch(_entry(server.url("/loop.pdf")))
    assert result.status == "failed" and "more than 20 redirects" in (result.error or "")
    assert len(server.requests_for("/loop.pdf")) == 21


def test_what_counts_as_non_public() -> None:
    assert {a: non_public(a) for a in ("127.0.0.1", "::1", "10.0.0.1", "172.16.5.4", "192.168.1.1",
                                       "fd00::1", "169.254.169.254", "fe80::1%eth0", "0.0.0.0",
                                       "::ffff:10.0.0.1", "100.64.0.1", "224.0.0.1")} == {
        "127.0.0.1": "loopback", "::1": "loopback", "10.0.0.1": "private", "172.16.5.4": "private",
        "192.168.1.1": "private", "fd00::1": "private", "169.254.169.254": "link-local",
        "fe80::1%eth0": "link-local", "0.0.0.0": "unspecified", "::ffff:10.0.0.1": "private",
        "100.64.0.1": "non-public", "224.0.0.1": "multicast"}
    assert [non_public(a) for a in ("8.8.8.8", "2001:4860:4860::8888", "93.184.215.14")] == [None] * 3
