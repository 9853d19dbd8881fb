"""Shared helpers of the corpus tests: a loopback HTTP server and small real PDFs.

``PolicyServer`` is a threaded ``http.server`` on 127.0.0.1 that serves
``Resource``\\ s by path with ETag / Last-Modified / 304 support, and can play
the failures a refresh meets in the wild: 404, 500, a slow answer, a flaky
endpoint that fails before it succeeds, garbage bytes, an HTML page served as a
PDF, a body without ``Content-Length``, redirects, compressed bodies, and an
answer trickled one byte at a time. It logs every request.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import signal
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from policylens.extract.document import Block, Document
from policylens.nlp.types import Cue, Facets, TaggedDocument, TaggedSentence
from policylens.rank.types import Evidence, FrameworkScore

# Sentences written for these tests (not taken from any real policy text).
CENTRAL = [
    "A single national authority shall license every artificial intelligence system before it is sold.",
    "All providers in every sector must register their systems in one central database.",
    "One horizontal law sets uniform obligations for all artificial intelligence systems.",
]
SECTORAL = [
    "Existing financial regulators will apply their own rules to credit scoring models.",
    "The health agency will issue guidance for diagnostic software within its remit.",
    "Rather than creating a new regulator, each sector supervisor keeps its mandate.",
]
NEUTRAL = [
    "This report describes research funding for universities.",
    "Section two lists the definitions used in this document.",
]


def pdf_bytes(paragraphs: list[str], *, title: str = "Test framework", pages: int = 1) -> bytes:
    """A real PDF with a text layer: ``paragraphs`` spread over ``pages`` pages."""
    buffer = io.BytesIO()
    sheet = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    sheet.setTitle(title)
    per_page = max(1, -(-len(paragraphs) // pages))
    for start in range(0, max(len(paragraphs), 1), per_page):
        y = 780.0
        sheet.setFont("Helvetica-Bold", 14)
        sheet.drawString(56, y, title)
        y -= 30
        sheet.setFont("Helvetica", 10)
        for paragraph in paragraphs[start:start + per_page]:
            sheet.drawString(56, y, paragraph)
            y -= 24
        sheet.showPage()
    sheet.save()
    return buffer.getvalue()


@dataclass
class Resource:
    """What the server answers for one path."""

    body: bytes = b""
    content_type: str = "application/pdf"
    status: int = 200
    delay: float = 0.0  # seconds before answering
    fail_first: int = 0  # answer 503 this many times, then normally
    send_length: bool = True
    headers: dict[str, str] = field(default_factory=dict)  # e.g. Location, Content-Encoding
    trickle: str = ""  # "headers" or "body": send that part one byte every trickle_every seconds
    trickle_every: float = 0.05
    send_etag: bool = True  # False: a server that sends only Last-Modified
    send_last_modified: bool = True  # False: a server that sends only an ETag
    etag: str = ""
    last_modified: str = field(default_factory=lambda: formatdate(usegmt=True))
    hold: Callable[[], None] | None = None  # called before answering: a test's way to hold a download

    def __post_init__(self) -> None:
        self.refresh_etag()

    def refresh_etag(self) -> None:
        self.etag = '"' + hashlib.sha256(self.body).hexdigest()[:16] + '"'

    def update(self, body: bytes) -> None:
        """Change the content (new ETag and Last-Modified), as a publisher would."""
        self.body = body
        self.refresh_etag()
        self.last_modified = formatdate(time.time() + 1, usegmt=True)

    def not_modified(self, headers: Mapping[str, str]) -> bool:
        """Whether a conditional request may be answered 304, as RFC 9110 says.

        ``If-None-Match`` decides when it is sent (and the ETag is served);
        otherwise ``If-Modified-Since`` against ``Last-Modified``, compared as dates.
        """
        if self.send_etag and headers.get("If-None-Match"):
            return headers["If-None-Match"] == self.etag
        since = headers.get("If-Modified-Since")
        if not (self.send_last_modified and since):
            return False
        try:
            return parsedate_to_datetime(self.last_modified) <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        """Clients hanging up (timeouts, the size cap) are part of the tests: no tracebacks."""


class PolicyServer:
    """A loopback HTTP server serving ``resources`` (path -> Resource)."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.resources: dict[str, Resource] = {}
        self.log: list[tuple[str, dict[str, str]]] = []
        self.statuses: list[tuple[str, int]] = []  # (path, status) of every answer
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # keep test output clean
                pass

            def do_GET(self) -> None:
                with server.lock:
                    server.log.append((self.path, dict(self.headers)))
                    resource = server.resources.get(self.path)
                    failing = resource is not None and resource.fail_first > 0
                    if failing:
                        resource.fail_first -= 1
                if resource is None:
                    return self._send(404, b"<html><body>not found</body></html>", "text/html")
                if resource.delay:
                    time.sleep(resource.delay)
                if resource.hold is not None:
                    resource.hold()
                if failing:
                    return self._send(503, b"busy", "text/plain")
                if resource.status != 200:
                    return self._send(resource.status, resource.body or b"error", "text/html",
                                      resource.headers)
                headers = dict(resource.headers)
                if resource.send_etag:
                    headers["ETag"] = resource.etag
                if resource.send_last_modified:
                    headers["Last-Modified"] = resource.last_modified
                if resource.not_modified(self.headers):
                    with server.lock:
                        server.statuses.append((self.path, 304))
                    self.send_response(304)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
                return self._send(200, resource.body, resource.content_type, headers,
                                  send_length=resource.send_length, trickle=resource.trickle,
                                  every=resource.trickle_every)

            def _send(self, status: int, body: bytes, content_type: str,
                      headers: dict[str, str] | None = None, *, send_length: bool = True,
                      trickle: str = "", every: float = 0.0) -> None:
                with server.lock:
                    server.statuses.append((self.path, status))
                lines = {"Content-Type": content_type, **(headers or {})}
                if send_length:
                    lines["Content-Length"] = str(len(body))
                else:
                    lines["Connection"] = "close"
                    self.close_connection = True
                head = (f"HTTP/1.1 {status} {self.responses.get(status, ('',))[0]}\r\n"
                        + "".join(f"{name}: {value}\r\n" for name, value in lines.items()) + "\r\n")
                # the client may hang up early (the size cap, a deadline): that is what the test wants
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self._write(head.encode("latin-1"), every if trickle == "headers" else 0.0)
                    self._write(body, every if trickle == "body" else 0.0)

            def _write(self, data: bytes, every: float) -> None:
                if not every:
                    self.wfile.write(data)
                    return
                for i in range(len(data)):
                    self.wfile.write(data[i:i + 1])
                    self.wfile.flush()
                    time.sleep(every)

        self.httpd = _QuietServer((host, 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base + path

    def requests_for(self, path: str) -> list[dict[str, str]]:
        with self.lock:
            return [headers for logged, headers in self.log if logged == path]

    def statuses_for(self, path: str) -> list[int]:
        with self.lock:
            return [status for logged, status in self.statuses if logged == path]

    def __enter__(self) -> PolicyServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def write_manifest(path: Path, entries: list[dict[str, object]], *, name: str = "test") -> Path:
    """Write a manifest TOML with one ``[[document]]`` per entry."""
    lines = ["[corpus]", f'name = "{name}"', ""]
    for entry in entries:
        lines.append("[[document]]")
        for key, value in entry.items():
            lines.append(f"{key} = {value}" if isinstance(value, int) else f'{key} = "{value}"')
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def entry(doc_id: str, *, url: str | None = None, path: str | None = None,
          **more: object) -> dict[str, object]:
    """One manifest entry with valid defaults."""
    data: dict[str, object] = {"id": doc_id, "title": f"Framework {doc_id}", "jurisdiction": "XX",
                               "year": 2024, "doc_type": "law"}
    if url is not None:
        data["url"] = url
    if path is not None:
        data["path"] = path
    data.update(more)
    return data


def contract_objects(source: str, *, lean: float = 0.5, n: int = 3,
                     model: str = "test-model-1") -> tuple[Document, TaggedDocument, FrameworkScore]:
    """A ``Document``, ``TaggedDocument`` and ``FrameworkScore`` built directly from the stage contracts.

    For store tests that must not depend on the extraction or tagging models.
    """
    text = [f"Sentence {i} about governance of artificial intelligence." for i in range(n)]
    document = Document(source=source, sha256=hashlib.sha256(source.encode()).hexdigest(), title="T",
                        n_pages=1, blocks=tuple(Block(page=1, kind="paragraph", text=t, section="Part 1")
                                                for t in text))
    p_c = (1 + lean) / 3
    p_s = (1 - lean) / 3
    sentences = tuple(
        TaggedSentence(doc=source, sentence_id=i, text=t,
                       label="centralized" if lean > 0 else "sector_specific",
                       probs={"centralized": p_c, "sector_specific": p_s, "neutral": 1 - p_c - p_s},
                       cues=(Cue(text="authority", approach="centralized", start=2, end=11),),
                       facets=Facets(sector=("finance",), level=("national",)), page=1, section="Part 1")
        for i, t in enumerate(text))
    tagged = TaggedDocument(source=source, title="T", sha256=document.sha256, n_pages=1,
                            sentences=sentences, model_version=model)
    score = FrameworkScore(doc=source, title="T", index=lean, ci_low=lean - 0.1, ci_high=lean + 0.1,
                           n_sentences=n, counts={"centralized": n, "sector_specific": 0, "neutral": 0},
                           facets={"sector": {"finance": n}},
                           evidence=(Evidence(text=text[0], label="centralized", page=1, weight=0.4),),
                           model_version=model)
    return document, tagged, score


def test_forked_worker_does_not_keep_a_dead_refresh_locked(tmp_path: Path) -> None:
    """Regression: a worker forked by a refresh kept its store locked after the refresh was killed."""
    from policylens.corpus.lock import RefreshLock

    lock = RefreshLock(tmp_path / "s.db")
    lock.acquire()
    assert lock._file is not None
    ready_r, ready_w = os.pipe()
    child = os.fork()
    if child == 0:  # the worker: lives on after its parent's lock is gone
        os.write(ready_w, b"1")  # fork's hooks have run by now
        time.sleep(5)
        os._exit(0)
    os.close(ready_w)
    assert os.read(ready_r, 1) == b"1"
    os.close(ready_r)
    try:
        # the refresh dies: its file closes without unlocking, as on SIGKILL
        handle, lock._file = lock._file, None
        handle.close()
        with RefreshLock(tmp_path / "s.db"):  # the next run gets the lock at once
            pass
    finally:
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)
