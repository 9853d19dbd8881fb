"""Fetching a manifest's documents: conditional, bounded, retried, sniffed.

* Conditional requests (``If-None-Match`` / ``If-Modified-Since``) from the
  stored version's ``ETag`` / ``Last-Modified``; a 304 means unchanged.
* A deadline for each document's whole download, retries included
  (``FetchSettings.timeout``), enforced inside the connection (``download.py``),
  besides a timeout for a connection that goes silent.
* A bounded number of retries with exponential backoff on network errors, 408,
  429 and 5xx (honouring a short ``Retry-After``). Refusals are final, never
  retried.
* Redirects are followed one by one: only to http(s) URLs, and into loopback,
  private or link-local networks only when the manifest's own URL is on one.
* A size cap enforced while streaming, not only from ``Content-Length``, on the
  decoded bytes: compressed bodies are decoded in bounded pieces.
* Content sniffing: the first bytes must agree with what the URL or the
  ``Content-Type`` promised. An HTML error page served for a ``.pdf`` URL is a
  failure, never a new version.

Bytes go straight into the object store (temp file + rename), so a fetch never
holds a whole document in memory. Local ``path`` entries are read once: the same
pass hashes them and copies them into the object store.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Literal
from urllib.parse import urlsplit

import httpx

from policylens import __version__
from policylens.corpus.download import (
    AddressKind,
    AddressRefused,
    BoundedDecoder,
    GuardedTransport,
    Limits,
    limits,
    non_public,
    resolve,
)
from policylens.corpus.manifest import ManifestEntry
from policylens.corpus.objects import CHUNK, ObjectStore
from policylens.corpus.store import Fetched, Version
from policylens.errors import FetchError
from policylens.extract.reader import SNIFF_BYTES, sniff

RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
MAX_REDIRECTS = 20
SUFFIX_KINDS = {".pdf": "pdf", ".html": "html", ".htm": "html", ".xhtml": "html",
                ".txt": "txt", ".text": "txt", ".md": "md", ".markdown": "md"}
TYPE_KINDS = {"application/pdf": "pdf", "application/x-pdf": "pdf", "text/html": "html",
              "application/xhtml+xml": "html", "text/plain": "txt", "text/markdown": "md",
              "text/x-markdown": "md"}


@dataclass(frozen=True, slots=True)
class FetchSettings:
    """How documents are fetched (one place for the defaults)."""

    timeout: float = 300.0  # seconds for one document's whole download, retries included
    read_timeout: float = 30.0  # seconds a connection may stay silent (connect, each read)
    retries: int = 3  # further attempts after the first
    backoff: float = 0.5  # seconds before the first retry; doubles each time
    max_backoff: float = 10.0
    max_bytes: int = 100 * 1024 * 1024
    concurrency: int = 8  # simultaneous downloads
    per_host: int = 4  # simultaneous downloads from one host (of the manifest's URL): polite to each server

    def __post_init__(self) -> None:
        if self.timeout <= 0:
            raise ValueError("timeout must be positive")
        if self.read_timeout <= 0:
            raise ValueError("read_timeout must be positive")
        if not 0 <= self.retries <= 10:
            raise ValueError("retries must be between 0 and 10")
        if self.max_bytes < 1:
            raise ValueError("max_bytes must be positive")
        if self.concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if self.per_host < 1:
            raise ValueError("per_host must be at least 1")


@dataclass(frozen=True, slots=True)
class FetchResult:
    """What fetching one manifest entry found."""

    id: str
    status: Literal["changed", "unchanged", "failed"]
    fetched: Fetched | None = None
    error: str | None = None


def content_kind(head: bytes, *, suffix: str = "", content_type: str | None = None) -> str:
    """The kind of document ``head`` (its first bytes) starts: ``pdf``, ``html``, ``txt`` or ``md``.

    The bytes are read by the extractor's own ``sniff``, so a refresh accepts exactly
    what extraction reads; this adds what a download needs on top: the bytes must
    agree with what the URL suffix or the ``Content-Type`` promised. Raises
    ``FetchError`` when they contradict it (an HTML page for a PDF) or are not a
    document at all.

    >>> content_kind(b"%PDF-1.7 ...", suffix=".pdf")
    'pdf'
    >>> content_kind(b"<!DOCTYPE html><html>Not found</html>", suffix=".pdf")
    Traceback (most recent call last):
    ...
    policylens.errors.FetchError: expected a PDF but the server sent an HTML page (an error or login page?)
    """
    declared = (content_type or "").split(";")[0].strip().lower()
    expected = SUFFIX_KINDS.get(suffix.lower()) or TYPE_KINDS.get(declared)
    if declared == "application/pdf":
        expected = "pdf"
    if not head:
        raise FetchError("the server sent an empty body")
    found = sniff(head)
    if found == "pdf":
        return "pdf"
    if expected == "pdf":
        if found == "html":
            raise FetchError("expected a PDF but the server sent an HTML page (an error or login page?)")
        raise FetchError("expected a PDF but the content does not start like one (no %PDF- header)")
    if found == "html":
        return "html"
    if found == "binary":
        raise FetchError("the content is not a PDF, HTML or text document")
    if expected == "html" and head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return "html"  # an HTML fragment without <html>
    return "md" if expected == "md" else "txt"


class Fetcher:
    """Fetches manifest entries into an ``ObjectStore``; safe to use from several threads.

    ``address_kind`` tells a non-public IP address (loopback, private ...) from a
    public one (``None``); the tests swap it to play a public server on loopback. A
    custom ``transport`` replaces the guarded one: the deadline is then checked only
    between reads, and addresses are not checked.
    """

    def __init__(self, objects: ObjectStore, settings: FetchSettings | None = None, *,
                 transport: httpx.BaseTransport | None = None,
                 address_kind: AddressKind = non_public) -> None:
        self.objects = objects
        self.settings = settings or FetchSettings()
        self.address_kind = address_kind
        self._hosts: dict[str, threading.Semaphore] = {}  # host -> its free download slots
        self._hosts_lock = threading.Lock()
        self.client = httpx.Client(
            timeout=httpx.Timeout(min(self.settings.read_timeout, self.settings.timeout)),
            follow_redirects=False,  # followed one by one in _get, each target checked
            transport=transport or GuardedTransport(max_connections=self.settings.concurrency * 2,
                                                    address_kind=address_kind),
            # only what BoundedDecoder decodes (httpx would add br or zstd when installed)
            headers={"User-Agent": f"policylens/{__version__} (corpus refresh)",
                     "Accept-Encoding": "gzip, deflate"},
        )

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def fetch_all(self, entries: Iterable[ManifestEntry],
                  previous: Mapping[str, Version]) -> Iterator[FetchResult]:
        """Fetch every entry with bounded concurrency, yielding results as they complete.

        Closing the iterator early cancels the downloads not yet started (it waits
        for the ones under way, each bounded by its deadline).
        """
        entries = list(entries)
        workers = min(self.settings.concurrency, max(1, len(entries)))
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="policylens-fetch")
        try:
            futures = [pool.submit(self.fetch, entry, previous.get(entry.id)) for entry in entries]
            for future in as_completed(futures):
                yield future.result()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def fetch(self, entry: ManifestEntry, previous: Version | None = None) -> FetchResult:
        """Fetch one entry; expected failures become a ``failed`` result, never an exception."""
        try:
            if entry.url:
                with self._host_slot(entry.url):
                    fetched = self._fetch_url(entry, previous)
            else:
                fetched = self._read_path(entry, previous)
        except FetchError as exc:
            return FetchResult(entry.id, "failed", error=exc.message)
        except OSError as exc:
            return FetchResult(entry.id, "failed", error=f"cannot read {entry.source}: {exc.strerror or exc}")
        if fetched is None or (previous is not None and fetched.sha256 == previous.sha256
                               and self.objects.has(previous.sha256)):
            return FetchResult(entry.id, "unchanged", fetched=fetched)
        if entry.sha256 is not None and fetched.sha256 != entry.sha256:
            return FetchResult(entry.id, "failed", error=(
                f"content sha256 {fetched.sha256[:12]}… does not match the manifest's {entry.sha256[:12]}…"))
        return FetchResult(entry.id, "changed", fetched=fetched)

    def _host_slot(self, url: str) -> threading.Semaphore:
        """The semaphore that bounds simultaneous downloads from ``url``'s host (``per_host``)."""
        host = urlsplit(url).netloc.lower()
        with self._hosts_lock:
            slot = self._hosts.get(host)
            if slot is None:
                slot = self._hosts[host] = threading.Semaphore(self.settings.per_host)
        return slot

    # --- local files ----------------------------------------------------------

    def _read_path(self, entry: ManifestEntry, previous: Version | None) -> Fetched:
        """Read a local file once: the same pass sniffs, hashes and copies it into the object store.

        The version's sha256 is the hash of the very bytes the engine will process
        (the stored copy), even if the file changes while it is read.
        """
        assert entry.path is not None
        if not entry.path.is_file():
            raise FetchError(f"no such file: {entry.path}")
        limit = self.settings.max_bytes
        size = entry.path.stat().st_size
        if size > limit:
            raise FetchError(f"file is {size} bytes, over the {limit}-byte limit")
        with open(entry.path, "rb") as handle, self.objects.writer() as sink:
            head = handle.read(SNIFF_BYTES)
            if not head:
                raise FetchError("the file is empty")
            kind = content_kind(head, suffix=entry.suffix)
            sink.write(head)
            while chunk := handle.read(CHUNK):
                sink.write(chunk)
                if sink.size > limit:
                    raise FetchError(f"the file grew past the {limit}-byte limit while it was read")
            sha = sink.hexdigest()
            if previous is None or previous.sha256 != sha or not self.objects.has(sha):
                sink.commit()  # unchanged content is already stored: the copy is dropped unwritten
            return Fetched(sha256=sha, size=sink.size, source=str(entry.path), kind=kind)

    # --- URLs -------------------------------------------------------------------

    def _fetch_url(self, entry: ManifestEntry, previous: Version | None) -> Fetched | None:
        """The new content of ``entry``, or ``None`` when the server says it has not changed."""
        assert entry.url is not None
        headers: dict[str, str] = {}
        if previous is not None and self.objects.has(previous.sha256):
            if previous.etag:
                headers["If-None-Match"] = previous.etag
            if previous.last_modified:
                headers["If-Modified-Since"] = previous.last_modified
        total = self.settings.timeout
        attempt = 0
        with limits(time.monotonic() + total) as state:
            while True:
                try:
                    return self._get(entry, headers, state)
                except _Retry as retry:
                    if attempt >= self.settings.retries:
                        raise FetchError(f"{retry.reason} (gave up after {attempt + 1} attempts)") from None
                    delay = min(self.settings.max_backoff, retry.after if retry.after is not None
                                else self.settings.backoff * 2 ** attempt)
                    if delay >= state.left():
                        raise FetchError(f"{retry.reason} (gave up after {attempt + 1} attempts: the "
                                         f"{total:g} s allowed for the download leave no time to retry; "
                                         "see --timeout)") from None
                    time.sleep(delay)
                    attempt += 1

    def _get(self, entry: ManifestEntry, headers: Mapping[str, str], state: Limits) -> Fetched | None:
        """One attempt: the request, then its redirects one by one, then the body."""
        assert entry.url is not None
        url = httpx.URL(entry.url)
        try:
            # the manifest's own URL decides whether this download may enter non-public networks
            state.allow_internal = any(self.address_kind(a) for a in resolve(url.host, url.port or 0))
        except (OSError, UnicodeError) as exc:
            raise _Retry(f"network error: cannot resolve {url.host} ({exc})", None) from None
        request = self.client.build_request("GET", url, headers=headers)
        try:
            for hop in range(MAX_REDIRECTS + 1):
                if hop:
                    _check_redirect(request.url)
                try:
                    response = self.client.send(request, stream=True)
                except AddressRefused as exc:
                    raise AddressRefused(f"refused {'a redirect to ' if hop else ''}{request.url}: "
                                         f"{exc.message}") from None
                try:
                    if response.next_request is None:
                        return self._receive(entry, response, state)
                    request = response.next_request
                finally:
                    response.close()  # a redirect's body is never read
            raise FetchError(f"more than {MAX_REDIRECTS} redirects from {entry.url} (a redirect loop?)")
        except httpx.TimeoutException:
            if state.expired:
                raise FetchError(self._late()) from None
            silent = min(self.settings.read_timeout, self.settings.timeout)
            raise _Retry(f"timed out: no answer for {silent:g} s", None) from None
        except httpx.TransportError as exc:
            raise _Retry(f"network error: {exc or type(exc).__name__}", None) from None
        except httpx.HTTPError as exc:  # e.g. an invalid URL
            raise FetchError(f"cannot fetch {request.url}: {exc}") from None

    def _receive(self, entry: ManifestEntry, response: httpx.Response, state: Limits) -> Fetched | None:
        """The body of a final (non-redirect) answer, decoded in bounded pieces into the object store."""
        limit = self.settings.max_bytes
        if response.status_code == 304:
            return None
        if response.status_code in RETRY_STATUS:
            raise _Retry(f"HTTP {response.status_code} {response.reason_phrase}",
                         _retry_after(response.headers.get("Retry-After")))
        if response.status_code != 200:
            raise FetchError(f"HTTP {response.status_code} {response.reason_phrase} from {response.url}")
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise FetchError(f"the server announces {declared} bytes, over the {limit}-byte limit "
                             "(raise --max-bytes to allow it)")
        content_type = response.headers.get("Content-Type")
        decoder = BoundedDecoder(response.headers.get("Content-Encoding"), piece=CHUNK)
        with self.objects.writer() as sink:
            head = b""

            def keep(pieces: Iterator[bytes]) -> None:
                nonlocal head
                for piece in pieces:
                    if len(head) < SNIFF_BYTES:
                        head += piece[:SNIFF_BYTES - len(head)]
                    sink.write(piece)
                    if sink.size > limit:  # at most one piece (CHUNK bytes) past the cap is ever held
                        raise FetchError(f"the download passed the {limit}-byte limit "
                                         "(raise --max-bytes to allow it)")

            for raw in response.iter_raw():
                keep(decoder.decode(raw))
                if state.left() <= 0:  # also when a custom transport does not enforce the deadline
                    raise FetchError(self._late())
            keep(decoder.flush())
            kind = content_kind(head, suffix=entry.suffix, content_type=content_type)
            sha = sink.commit()
            return Fetched(sha256=sha, size=sink.size, source=str(entry.url), kind=kind,
                           etag=response.headers.get("ETag"),
                           last_modified=response.headers.get("Last-Modified"), content_type=content_type)

    def _late(self) -> str:
        return (f"timed out: the download did not finish within {self.settings.timeout:g} s "
                "(raise --timeout to allow more)")


def _check_redirect(url: httpx.URL) -> None:
    """Refuse (for good, no retry) a redirect to anything but a plain http(s) URL."""
    if url.scheme not in ("http", "https"):
        raise FetchError(f"refused a redirect to {url}: only http and https URLs are followed")
    if url.userinfo:
        raise FetchError(f"refused a redirect to {url.copy_with(username=None, password=None)}: "
                         "it carries credentials")


class _Retry(Exception):
    """Internal control flow: this attempt failed in a way worth retrying."""

    def __init__(self, reason: str, after: float | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.after = after


def _retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (a number or an HTTP date), if any."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None
