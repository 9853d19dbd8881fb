"""Benchmark corpus refreshes on a generated 1,000-document corpus served on loopback.

Measures:

1. the first refresh (everything new): documents/s and pages/s;
2. a refresh where nothing changed (conditional GETs answered 304) — target < 10 s;
3. a refresh after one document changed (only that one is re-processed);
4. the same first refresh on a Dask LocalCluster vs local worker processes.

Run: ``.venv/bin/python bench/refresh.py [--documents 1000] [--workers 2] [--skip-dask]``.
The documents are generated here (tiny PDFs and text files made of sentences
written for this benchmark); nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import random
import sys
import tempfile
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from policylens.corpus.refresh import RefreshReport, refresh
from policylens.corpus.store import Store

PHRASES = {
    "centralized": [
        "A single national authority shall license every artificial intelligence system before deployment.",
        "All providers must register high-risk systems in one central database kept by the regulator.",
        "One horizontal act sets uniform obligations for every artificial intelligence system.",
        "The new agency may issue binding rules that apply across all sectors of the economy.",
    ],
    "sector_specific": [
        "Existing financial supervisors will apply their current mandates to credit scoring tools.",
        "The medicines regulator will publish guidance on diagnostic software within its remit.",
        "Rather than creating a new regulator, each sector authority keeps its present powers.",
        "Transport safety rules for automated vehicles remain with the transport ministry.",
    ],
    "neutral": [
        "The programme funds research fellowships at public universities.",
        "This chapter sets out the definitions used in the remainder of the text.",
        "Artificial intelligence can help doctors read medical images more quickly.",
        "The report was prepared with input from a public consultation.",
    ],
}


def document_text(i: int, rng: random.Random) -> list[str]:
    """Eight to sixteen sentences with a lean that depends on the document."""
    lean = rng.random()
    sentences = []
    for _ in range(rng.randint(8, 16)):
        roll = rng.random()
        label = "centralized" if roll < lean * 0.6 else "sector_specific" if roll < 0.6 else "neutral"
        sentences.append(rng.choice(PHRASES[label]))
    return [f"Framework number {i}.", *sentences]


def tiny_pdf(paragraphs: list[str], pages: int) -> bytes:
    buffer = io.BytesIO()
    sheet = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    per_page = max(1, -(-len(paragraphs) // pages))
    for start in range(0, len(paragraphs), per_page):
        y = 790.0
        sheet.setFont("Helvetica", 10)
        for paragraph in paragraphs[start:start + per_page]:
            sheet.drawString(50, y, paragraph)
            y -= 22
        sheet.showPage()
    sheet.save()
    return buffer.getvalue()


class Corpus:
    """Generated documents served by a threaded loopback HTTP server with ETag support."""

    def __init__(self, n: int, seed: int = 7) -> None:
        rng = random.Random(seed)
        self.bodies: dict[str, tuple[bytes, str]] = {}
        self.pages = 0
        for i in range(n):
            text = document_text(i, rng)
            if i % 2 == 0:
                pages = 1 + i % 3
                self.bodies[f"/doc{i}.pdf"] = (tiny_pdf(text, pages), "application/pdf")
                self.pages += pages
            else:
                self.bodies[f"/doc{i}.txt"] = ("\n\n".join(text).encode(), "text/plain; charset=utf-8")
        self.requests = 0
        corpus = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                corpus.requests += 1
                body, kind = corpus.bodies.get(self.path, (b"", ""))
                if not kind:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                etag = '"' + hashlib.sha1(body).hexdigest() + '"'
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("ETag", etag)
                self.send_header("Last-Modified", formatdate(usegmt=True))
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def manifest(self, folder: Path) -> Path:
        host, port = self.httpd.server_address[:2]
        lines = ['[corpus]', 'name = "bench"', '']
        for path in self.bodies:
            doc_id = path[1:].replace(".", "-")
            lines += ["[[document]]", f'id = "{doc_id}"', f'title = "Generated {doc_id}"',
                      'jurisdiction = "XX"', "year = 2025", 'doc_type = "law"',
                      f'url = "http://{host}:{port}{path}"', ""]
        target = folder / "bench.toml"
        target.write_text("\n".join(lines), encoding="utf-8")
        return target


def timed(label: str, manifest: Path, store: Path,
          settings: dict[str, object]) -> tuple[RefreshReport, float]:
    start = time.perf_counter()
    report = refresh(manifest, store, settings)
    seconds = time.perf_counter() - start
    print(f"{label:<34} {seconds:7.2f} s  new={len(report.new)} updated={len(report.updated)} "
          f"unchanged={len(report.unchanged)} failed={len(report.failed)} processed={report.processed}",
          flush=True)
    return report, seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-dask", action="store_true")
    args = parser.parse_args()

    start = time.perf_counter()
    corpus = Corpus(args.documents)
    print(f"generated {args.documents} documents ({corpus.pages} PDF pages, "
          f"{sum(len(b) for b, _ in corpus.bodies.values()) / 1e6:.1f} MB) in "
          f"{time.perf_counter() - start:.1f} s", flush=True)
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="policylens-bench-") as folder:
        root = Path(folder)
        manifest = corpus.manifest(root)
        local = {"workers": args.workers}

        first, seconds = timed(f"first refresh (local x{args.workers})", manifest, root / "local.db", local)
        results["first_seconds"] = seconds
        results["first_docs_per_s"] = len(first.new) / seconds
        results["first_pages_per_s"] = first.pages / seconds
        print(f"  -> {results['first_docs_per_s']:.1f} documents/s, {results['first_pages_per_s']:.1f} "
              f"PDF pages/s ({first.pages} pages)")

        before = corpus.requests
        _, seconds = timed("no-change refresh", manifest, root / "local.db", local)
        results["no_change_seconds"] = seconds
        print(f"  -> {corpus.requests - before} conditional requests; target < 10 s: "
              f"{'met' if seconds < 10 else 'MISSED'}")

        path = next(iter(corpus.bodies))
        body, kind = corpus.bodies[path]
        corpus.bodies[path] = (tiny_pdf(["A single national authority shall license every system."] * 6, 1)
                               if kind == "application/pdf" else body + b"\n\nOne more sentence.", kind)
        changed, seconds = timed("one document changed", manifest, root / "local.db", local)
        results["one_change_seconds"] = seconds
        assert changed.processed == 1 and len(changed.updated) == 1, changed.counts()

        if not args.skip_dask:
            from distributed import LocalCluster

            with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                              dashboard_address=None) as cluster:
                dask, seconds = timed(f"first refresh (dask x{args.workers})", manifest, root / "dask.db",
                                      {"engine": "dask", "scheduler": cluster.scheduler_address})
            results["dask_first_seconds"] = seconds
            results["dask_docs_per_s"] = len(dask.new) / seconds
            with Store(root / "local.db") as a, Store(root / "dask.db") as b:
                same = a.latest_index() == b.latest_index()
            print(f"  -> {results['dask_docs_per_s']:.1f} documents/s; same indexes as local: {same}")
    print(json.dumps({k: round(v, 2) for k, v in results.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
