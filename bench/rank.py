"""Benchmark: ``policylens rank`` end to end (extract + tag + score), its parallel speed-up and memory.

Usage::

    python bench/rank.py                      # the AGORA rows: 300 texts 1 vs 2 workers, then all 1,031
    python bench/rank.py --repeat 5           # more interleaved 1/2-worker pairs (medians are printed)
    python bench/rank.py --skip-all           # only the 1-vs-2 rows
    python bench/rank.py --folder ../shared/corpus --workers 1 2 --facets none codebook

The AGORA texts are read in place from ``../shared/corpus/agora/fulltext`` (the first 300 by
file name for the speed-up rows). Each run is ``policylens rank FILES --format json`` in a
subprocess. The benchmark samples the memory of its whole process tree (the CLI and its
workers) from /proc every 0.2 s in the all-texts row (a sample costs CPU itself, so the
speed-up rows take no memory samples, see ``run``): RSS summed over the processes, PSS
(shared pages divided among their sharers) and the largest single process (``ru_maxrss`` of
``wait4``, what ``/usr/bin/time`` reports). CPU time of the tree comes from ``wait4``.

On a machine shared with other jobs wall times are noisy: 1- and 2-worker runs are interleaved,
medians are reported with the load average before each run, and CPU seconds per document show
the parallel efficiency (equal CPU per document with 1 and 2 workers: going parallel added no
work). ``parent`` is the CPU time of the CLI process itself (start-up, loading the pipeline its
workers inherit, receiving results, the output), ``serial`` the part of it before the first
worker started, ``busiest`` the CPU time of the busiest worker, and ``idle est`` the sum of
parent and busiest: the wall time on an idle machine if all of the CLI's own work were serial
and each worker had a core to itself (which a machine shared with other jobs does not give).

``--folder`` keeps the earlier mode: top-level .pdf/.txt/.md files of a folder, ``--facets``
compares rank times for values of ``rank --facets``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _corpus import CORPUS

SUFFIXES = (".pdf", ".txt", ".md")
AGORA = CORPUS / "agora" / "fulltext"
SUBSET = 300
SAMPLE = 0.2  # seconds between samples of the process tree: reading smaps costs CPU too


def process_tree(root: int) -> list[int]:
    """``root`` and all its descendants (Linux /proc).

    Read from each thread's ``children`` file: a few small reads per process. Scanning every
    process of the machine (the fallback, for kernels without those files) costs about 4 ms
    of CPU a sample, taken from the very cores the workers run on.
    """
    found, stack = [], [root]
    try:
        while stack:
            pid = stack.pop()
            found.append(pid)
            for task in os.listdir(f"/proc/{pid}/task"):
                try:
                    with open(f"/proc/{pid}/task/{task}/children", encoding="utf-8") as handle:
                        stack.extend(int(child) for child in handle.read().split())
                except FileNotFoundError:  # the thread ended
                    continue
        return found
    except FileNotFoundError:
        if not os.path.exists(f"/proc/{root}/task/{root}/children"):
            return _process_tree_scan(root)
        return found  # the process itself ended


def _process_tree_scan(root: int) -> list[int]:
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
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(children.get(pid, []))
    return found


def _field_kb(path: str, name: str) -> int:
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if line.startswith(name):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_memory(root: int, pids: list[int] | None = None) -> tuple[int, int]:
    """(sum of VmRSS, sum of Pss) in bytes over ``root`` and its descendants (or ``pids``).

    RSS counts pages shared between processes (a pipeline loaded before the workers forked)
    once per process; PSS divides each shared page among its sharers.
    """
    rss = pss = 0
    for pid in pids if pids is not None else process_tree(root):
        rss += _field_kb(f"/proc/{pid}/status", "VmRSS:")
        pss += _field_kb(f"/proc/{pid}/smaps_rollup", "Pss:")
    return rss * 1024, pss * 1024


def own_cpu(pid: int) -> float:
    """CPU seconds (user + system) of ``pid`` itself so far, not its children."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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


def load() -> float:
    return os.getloadavg()[0]


def run(files: list[Path], workers: int, facets: str | None = None,
        extra: tuple[str, ...] = (), *, memory: bool = True) -> dict[str, float]:
    """One ``policylens rank`` subprocess: wall and CPU seconds, peak tree RSS/PSS, ranked/failed.

    ``memory=False`` leaves out the memory samples (RSS and PSS of every process, 0 in the
    result): reading ``smaps_rollup`` walks a process's page tables, about 10 ms of CPU a
    sample for the CLI and two workers, and with two workers on two cores that CPU is taken
    from them (with one worker it runs on the idle core), which made the 2-worker run look
    slower than it was. The speed-up rows do without; the all-texts row measures memory.
    """
    command = [sys.executable, "-m", "policylens.cli", "rank", *map(str, files), "--format", "json",
               "--workers", str(workers), *(["--facets", facets] if facets else []), *extra]
    before = load()
    # results go to temporary files, not pipes: a full pipe would stall the CLI mid-write
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, text=True)
        peak_rss = peak_pss = 0
        cpu_of: dict[int, float] = {}  # per process, its last sample: its final 0.2 s is lost
        serial = None  # the CLI's CPU time when its first worker appeared: start-up, loading
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            pids = process_tree(process.pid)
            for each in pids:
                cpu_of[each] = max(cpu_of.get(each, 0.0), own_cpu(each))
            if serial is None and len(pids) > 1:
                serial = cpu_of[process.pid]
            if memory:
                rss, pss = tree_memory(process.pid, pids)
                peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
            time.sleep(SAMPLE)
        parent = cpu_of.pop(process.pid, 0.0)
        busiest = max(cpu_of.values(), default=0.0)
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    ranked = json.loads(stdout) if stdout.strip() else []
    failed = [line for line in stderr.splitlines() if line.startswith("error:")]
    cpu = usage.ru_utime + usage.ru_stime  # the CLI and every worker it reaped
    return {"workers": workers, "seconds": seconds, "cpu": cpu, "parent_cpu": parent,
            "serial_cpu": serial if serial is not None else parent, "busiest_worker_cpu": busiest,
            # wall time on an idle machine if every CPU second of the CLI itself were serial and
            # each worker had a core of its own: what the load of other jobs hides
            "idle_estimate": parent + busiest,
            "ranked": len(ranked), "failed": len(failed), "peak_rss_mb": peak_rss / 2**20,
            "peak_pss_mb": peak_pss / 2**20, "max_process_mb": usage.ru_maxrss / 1024,
            "exit_code": process.returncode, "load": before}


def agora_files() -> list[Path]:
    files = sorted(AGORA.glob("*.txt"))
    if not files:
        raise SystemExit(f"no AGORA texts in {AGORA}")
    return files


def row(label: str, r: dict[str, float], n: int) -> str:
    return (f"{label:<24} {r['seconds']:>7.1f} {r['cpu']:>7.1f} {100 * r['cpu'] / r['seconds']:>5.0f}% "
            f"{1000 * r['cpu'] / n:>8.1f} {r['peak_rss_mb']:>8.0f} {r['peak_pss_mb']:>8.0f} "
            f"{r['max_process_mb']:>7.0f} "
            f"{r['load']:>5.1f} {r['serial_cpu']:>6.1f} {r['parent_cpu']:>7.1f} "
            f"{r['busiest_worker_cpu']:>7.1f} {r['idle_estimate']:>7.1f} {r['ranked']:>6}/{r['failed']}")


HEADER = (f"{'run':<24} {'wall s':>7} {'CPU s':>7} {'CPU':>6} {'ms CPU/doc':>8} {'RSS MB':>8} "
          f"{'PSS MB':>8} {'max1 MB':>7} {'load':>5} {'serial':>6} {'parent':>7} {'busiest':>7} "
          f"{'idle est':>7} {'ranked/failed':>8}")


def speedup(repeat: int) -> None:
    """The 1-vs-2-worker row: ``SUBSET`` AGORA texts, runs interleaved, medians."""
    files = agora_files()[:SUBSET]
    print(f"== rank of {len(files)} AGORA texts, 1 vs 2 workers, {repeat} interleaved pairs "
          f"({os.cpu_count()} cores)")
    print(HEADER)
    one: list[dict[str, float]] = []
    two: list[dict[str, float]] = []
    for i in range(repeat):
        for workers, runs in ((1, one), (2, two)) if i % 2 == 0 else ((2, two), (1, one)):
            r = run(files, workers, memory=False)  # no smaps samples: they would take CPU from the workers
            runs.append(r)
            print(row(f"{workers} worker(s), run {i + 1}", r, len(files)), flush=True)
    ratios = [a["seconds"] / b["seconds"] for a, b in zip(one, two, strict=True)]
    median_one = statistics.median(r["seconds"] for r in one)
    median_two = statistics.median(r["seconds"] for r in two)
    cpu_one = statistics.median(r["cpu"] for r in one) / len(files)
    cpu_two = statistics.median(r["cpu"] for r in two) / len(files)
    print(f"median wall: 1 worker {median_one:.1f} s, 2 workers {median_two:.1f} s -> speed-up "
          f"{median_one / median_two:.2f}x (pairs: {', '.join(f'{x:.2f}' for x in ratios)}; "
          f"target >= 1.8x)")
    print(f"CPU per document: {1000 * cpu_one:.1f} ms with 1 worker, {1000 * cpu_two:.1f} ms with 2 "
          f"({100 * (cpu_two / cpu_one - 1):+.1f}%); load average "
          f"{min(r['load'] for r in one + two):.1f}-{max(r['load'] for r in one + two):.1f}")
    idle_one = statistics.median(r["idle_estimate"] for r in one)
    idle_two = statistics.median(r["idle_estimate"] for r in two)
    print(f"idle-machine estimate (the CLI's own CPU + its busiest worker's): {idle_one:.1f} s vs "
          f"{idle_two:.1f} s -> {idle_one / idle_two:.2f}x; serial start-up before the first worker "
          f"{statistics.median(r['serial_cpu'] for r in one + two):.1f} s CPU")


def whole(workers: int) -> None:
    """The 1,031-text row: wall time, CPU use and peak tree memory."""
    files = agora_files()
    size_mb = sum(p.stat().st_size for p in files) / 2**20
    print(f"== rank of all {len(files)} AGORA texts ({size_mb:.1f} MB), {workers} workers")
    print(HEADER)
    r = run(files, workers)
    print(row(f"{workers} workers", r, len(files)))
    print(f"all {len(files)}: {r['seconds']:.1f} s wall (target < 45 s), {r['peak_rss_mb']:.0f} MB peak "
          f"RSS of the process tree (target < 400 MB; PSS {r['peak_pss_mb']:.0f} MB; largest single "
          f"process {r['max_process_mb']:.0f} MB), "
          f"{100 * r['cpu'] / r['seconds']:.0f}% CPU of {100 * workers}%")


def folder(args: argparse.Namespace) -> None:
    """The earlier mode: the top-level documents of a folder, per worker count and --facets value."""
    files = sorted(p for p in args.folder.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES)
    if not files:
        raise SystemExit(f"no .pdf/.txt/.md files in {args.folder}")
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--folder", type=Path, help="the earlier mode: rank this folder's documents")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--facets", nargs="+", default=[None],
                        help="with --folder: values of rank --facets to compare (e.g. none codebook)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each configuration")
    parser.add_argument("--skip-all", action="store_true", help="leave out the run of all AGORA texts")
    parser.add_argument("--skip-speedup", action="store_true", help="leave out the 1-vs-2-worker runs")
    args = parser.parse_args()
    if args.folder is not None:
        folder(args)
        return 0
    if not args.skip_speedup:
        speedup(args.repeat)
    if not args.skip_all:
        whole(max(args.workers))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
