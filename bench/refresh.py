"""Benchmark corpus refreshes on a generated 1,000-document corpus served on loopback.

Measures:

1. the first refresh (everything new): seconds, documents/s, pages/s and the peak
   RSS of the refreshing process and of its largest worker — target <= 25 s;
2. the anchor: a plain ``httpx`` loop over the same server doing a GET and then a
   conditional GET of each document (one client, keep-alive, one request at a time);
3. a refresh where nothing changed (every answer a 304), in this process and as the
   ``policylens corpus refresh`` command a cron job runs (a new process: start-up
   included), each as a ratio to the anchor — target <= 1.5x the anchor + 1 s;
4. a refresh after one document changed (only that one is re-processed);
5. the same first refresh on a Dask LocalCluster vs local worker processes;
6. with ``--rss-sizes 250,500,1000``: the first refresh's peak memory per manifest
   size, each in a fresh process (it should stay flat as the manifest grows).

Anchor and no-change refresh are run ``--repeat`` times (interleaved) and the
medians compared. Run: ``.venv/bin/python bench/refresh.py [--documents 1000]
[--workers 2] [--skip-dask] [--rss-sizes 250,500,1000]``.
The documents are generated here (tiny PDFs and text files made of sentences
written for this benchmark); nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
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
    """Generated documents served by a threaded loopback HTTP server with both validators.

    Each body has a fixed ``ETag`` and ``Last-Modified``; ``If-None-Match`` wins over
    ``If-Modified-Since`` when a request has both (RFC 9110).
    """

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
        self.stamp = formatdate(time.time() - 86400, usegmt=True)  # every body "last modified" yesterday
        corpus = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # headers and body go out in two writes: with Nagle's algorithm on, a client that
            # reuses the connection waits for the delayed ACK (40 ms) on every request
            disable_nagle_algorithm = True

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
                match = self.headers.get("If-None-Match")
                since = self.headers.get("If-Modified-Since")
                if match == etag or (match is None and since == corpus.stamp):
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.send_header("Last-Modified", corpus.stamp)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("ETag", etag)
                self.send_header("Last-Modified", corpus.stamp)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}{path}"

    def manifest(self, folder: Path) -> Path:
        lines = ['[corpus]', 'name = "bench"', '']
        for path in self.bodies:
            doc_id = path[1:].replace(".", "-")
            lines += ["[[document]]", f'id = "{doc_id}"', f'title = "Generated {doc_id}"',
                      'jurisdiction = "XX"', "year = 2025", 'doc_type = "law"',
                      f'url = "{self.url(path)}"', ""]
        target = folder / "bench.toml"
        target.write_text("\n".join(lines), encoding="utf-8")
        return target


def cpu_seconds() -> float:
    """CPU time (user + system) of this process and of its finished children (the worker processes)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(label: str, manifest: Path, store: Path,
          settings: dict[str, object]) -> tuple[RefreshReport, float]:
    start, cpu = time.perf_counter(), cpu_seconds()
    report = refresh(manifest, store, settings)
    seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    print(f"{label:<34} {seconds:7.2f} s  (CPU {cpu:.1f} s) new={len(report.new)} "
          f"updated={len(report.updated)} unchanged={len(report.unchanged)} failed={len(report.failed)} "
          f"processed={report.processed}",
          flush=True)
    TIMES[label] = cpu
    return report, seconds


TIMES: dict[str, float] = {}  # label -> CPU seconds of its last run


def anchor_loop(corpus: Corpus) -> float:
    """The anchor: one plain httpx client, a GET then a conditional GET of each document, in turn."""
    start = time.perf_counter()
    with httpx.Client() as client:
        for path in corpus.bodies:
            url = corpus.url(path)
            first = client.get(url)
            first.raise_for_status()
            again = client.get(url, headers={"If-None-Match": first.headers["ETag"],
                                             "If-Modified-Since": first.headers["Last-Modified"]})
            assert again.status_code == 304, again.status_code
    return time.perf_counter() - start


def cli_refresh(manifest: Path, store: Path, workers: int) -> float:
    """``policylens corpus refresh`` as a cron job runs it: a new process, start-up included."""
    start = time.perf_counter()
    command = Path(sys.executable).with_name("policylens")  # the console script of this environment
    done = subprocess.run([str(command), "corpus", "refresh", str(manifest),
                           "--store", str(store), "--workers", str(workers), "--json"],
                          capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"corpus refresh failed ({done.returncode}): {done.stderr[-2000:]}")
    return seconds


def peak_rss_mb() -> tuple[float, float]:
    """Peak resident memory (MB) of this process, and of its largest finished child (the workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def rss_child(documents: int, workers: int) -> int:
    """``--rss-child N``: one first refresh of N documents in this fresh process; print its peak memory."""
    corpus = Corpus(documents)
    with tempfile.TemporaryDirectory(prefix="policylens-bench-") as folder:
        root = Path(folder)
        start = time.perf_counter()
        report = refresh(corpus.manifest(root), root / "s.db", {"workers": workers})
        seconds = time.perf_counter() - start
    own, children = peak_rss_mb()
    print(json.dumps({"documents": documents, "new": len(report.new), "seconds": round(seconds, 2),
                      "parent_mb": round(own), "worker_mb": round(children)}))
    return 0


def rss_scaling(sizes: list[int], workers: int) -> None:
    print("peak memory of a first refresh by manifest size (each in a fresh process):")
    for size in sizes:
        done = subprocess.run([sys.executable, __file__, "--rss-child", str(size), "--workers", str(workers)],
                              capture_output=True, text=True, check=True)
        row = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"  {row['documents']:>5} documents: {row['seconds']:6.2f} s, refreshing process "
              f"{row['parent_mb']} MB, largest worker {row['worker_mb']} MB", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3, help="runs of the anchor and the no-change refresh")
    parser.add_argument("--skip-dask", action="store_true")
    parser.add_argument("--rss-sizes", default="", help="e.g. 250,500,1000: peak memory per manifest size")
    parser.add_argument("--rss-child", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_child:
        return rss_child(args.rss_child, args.workers)

    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} "
          f"on {os.cpu_count()} cores", flush=True)
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
        results["first_cpu_seconds"] = TIMES[f"first refresh (local x{args.workers})"]
        results["first_docs_per_s"] = len(first.new) / seconds
        results["first_pages_per_s"] = first.pages / seconds
        own, children = peak_rss_mb()
        results["first_parent_mb"], results["first_worker_mb"] = own, children
        print(f"  -> {results['first_docs_per_s']:.1f} documents/s, {results['first_pages_per_s']:.1f} "
              f"PDF pages/s ({first.pages} pages); peak RSS {own:.0f} MB here, {children:.0f} MB in the "
              f"largest worker; target <= 25 s: {'met' if seconds <= 25 else 'MISSED'}", flush=True)

        anchors, in_process, as_cli = [], [], []
        for _ in range(args.repeat):
            anchors.append(anchor_loop(corpus))
            before = corpus.requests
            report, seconds = timed("no-change refresh (in process)", manifest, root / "local.db", local)
            assert report.processed == 0 and len(report.unchanged) == args.documents, report.counts()
            assert corpus.requests - before == args.documents, "one conditional request per document"
            in_process.append(seconds)
            as_cli.append(cli_refresh(manifest, root / "local.db", args.workers))
            print(f"{'anchor loop (GET + conditional GET)':<34} {anchors[-1]:7.2f} s; "
                  f"'policylens corpus refresh' (new process) {as_cli[-1]:.2f} s", flush=True)
        anchor = statistics.median(anchors)
        results["anchor_seconds"] = anchor
        results["no_change_seconds"] = statistics.median(in_process)
        results["no_change_cli_seconds"] = statistics.median(as_cli)
        limit = 1.5 * anchor + 1
        for key, label in (("no_change_seconds", "in process"), ("no_change_cli_seconds", "CLI")):
            value = results[key]
            results[key.replace("seconds", "ratio")] = value / anchor
            print(f"  -> no change, {label}: {value:.2f} s = {value / anchor:.2f}x the anchor "
                  f"({anchor:.2f} s); target <= 1.5x + 1 s = {limit:.2f} s: "
                  f"{'met' if value <= limit else 'MISSED'}", flush=True)

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
    if args.rss_sizes:
        rss_scaling([int(n) for n in args.rss_sizes.split(",") if n.strip()], args.workers)
    print(f"load average at the end {os.getloadavg()[0]:.2f}")
    print(json.dumps({k: round(v, 2) for k, v in results.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
