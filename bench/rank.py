"""Benchmark: rank a whole folder end to end (extract + tag + score) with 1 and 2 workers.

Usage: ``python bench/rank.py [FOLDER] [--workers 1 2] [--facets none codebook] [--repeat N]``
(default folder ../shared/corpus, top-level .pdf/.txt/.md files only; the documents are read in
place). ``--facets`` runs each value of ``rank --facets`` in turn (interleaved, ``--repeat`` times),
so the document facets' share of the rank time can be read off.

Runs ``policylens rank FILES --format json`` as a subprocess, samples the resident
memory of its whole process tree (the CLI and its worker processes) from /proc
every 0.1 s, and reports documents/s, PDF pages/s and the peak tree RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _corpus import CORPUS

SUFFIXES = (".pdf", ".txt", ".md")


def tree_rss_bytes(root: int) -> int:
    """Sum of VmRSS over ``root`` and all its descendants (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        stack.extend(children.get(pid, []))
        try:
            with open(f"/proc/{pid}/status", encoding="utf-8") as handle:
                for line in handle:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
                        break
        except OSError:
            continue
    return total


def pdf_pages(path: Path) -> int:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError:
        return 0
    try:
        return len(pdf)
    finally:
        pdf.close()


def run(files: list[Path], workers: int, facets: str | None = None) -> dict[str, float]:
    command = [sys.executable, "-m", "policylens.cli", "rank", *map(str, files), "--format", "json",
               "--workers", str(workers), *(["--facets", facets] if facets else [])]
    # results go to temporary files, not pipes: a full pipe would stall the CLI mid-write
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, text=True)
        peak = 0
        while process.poll() is None:
            peak = max(peak, tree_rss_bytes(process.pid))
            time.sleep(0.1)
        seconds = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    ranked = json.loads(stdout) if stdout.strip() else []
    failed = [line for line in stderr.splitlines() if line.startswith("error:")]
    return {"workers": workers, "seconds": seconds, "ranked": len(ranked), "failed": len(failed),
            "peak_rss_mb": peak / 2**20, "exit_code": process.returncode}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", nargs="?", type=Path, default=CORPUS)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--facets", nargs="+", default=[None],
                        help="values of rank --facets to compare (e.g. none codebook)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each configuration")
    args = parser.parse_args()
    files = sorted(p for p in args.folder.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES)
    if not files:
        print(f"no .pdf/.txt/.md files in {args.folder}", file=sys.stderr)
        return 2
    pages = sum(pdf_pages(p) for p in files if p.suffix.lower() == ".pdf")
    size_mb = sum(p.stat().st_size for p in files) / 2**20
    print(f"{len(files)} documents ({pages} PDF pages, {size_mb:.1f} MB) in {args.folder}")
    print(f"{'workers':>7} {'facets':>9} {'seconds':>8} {'docs/s':>7} {'pages/s':>8} {'peak RSS MB':>12} "
          f"{'ranked':>7} {'failed':>7}")
    best: dict[tuple[int, str], float] = {}
    for workers in args.workers:
        for _ in range(args.repeat):
            for facets in args.facets:
                r = run(files, workers, facets)
                name = facets or "default"
                best[(workers, name)] = min(best.get((workers, name), float("inf")), r["seconds"])
                print(f"{workers:>7} {name:>9} {r['seconds']:>8.1f} {len(files) / r['seconds']:>7.2f} "
                      f"{pages / r['seconds']:>8.1f} {r['peak_rss_mb']:>12.0f} {r['ranked']:>7} "
                      f"{r['failed']:>7}")
    if len(args.facets) > 1:
        for workers in args.workers:
            base = best[(workers, args.facets[0] or "default")]
            for facets in args.facets[1:]:
                seconds = best[(workers, facets or "default")]
                print(f"{workers} worker(s): --facets {facets} takes {100 * (seconds / base - 1):+.1f}% "
                      f"against --facets {args.facets[0]} (best of {args.repeat})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
