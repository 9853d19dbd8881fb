"""Benchmark: ``policylens rank --engine dask`` of all AGORA texts on a Dask LocalCluster.

Usage: ``python bench/rank_dask.py [--workers 2] [--limit N] [--skip-local]``

This process starts a LocalCluster (its scheduler runs here, its workers are single-threaded
processes) and runs ``policylens rank FILES --engine dask --scheduler ADDRESS --format json``
as a subprocess, the Dask client. While it runs, a thread samples the memory of this process
(the scheduler; nothing else here grows) and the number of tasks the scheduler holds. Tasks
carry file paths, not the documents' bytes: the script prints the pickled size of one task's
function and argument as the CLI builds them. The anchor is the local engine (``--engine
local``, the same number of worker processes) on the same files, in the same run.
"""

from __future__ import annotations

import argparse
import functools
import os
import threading
import time
from pathlib import Path

from rank import AGORA, load, run, tree_memory


def own_rss() -> int:
    with open("/proc/self/status", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def task_bytes(path: Path) -> int:
    """The pickled size of one task as the CLI submits it: ``run_isolated(work, path)``."""
    import cloudpickle

    from policylens.corpus.engines import run_isolated
    from policylens.rank.analysis import score_file

    work = functools.partial(score_file, keep_sentences=False, password=None, method=None, scope=None,
                             facets=None)
    return len(cloudpickle.dumps((run_isolated, work, path)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--limit", type=int, default=0, help="only the first N texts (0: all)")
    parser.add_argument("--skip-local", action="store_true", help="leave out the local-engine anchor")
    args = parser.parse_args()

    from distributed import LocalCluster

    files = sorted(AGORA.glob("*.txt"))
    if args.limit:
        files = files[: args.limit]
    size_mb = sum(p.stat().st_size for p in files) / 2**20
    print(f"{len(files)} AGORA texts ({size_mb:.1f} MB); one task as submitted: {task_bytes(files[0])} "
          f"bytes (the largest text alone is {max(p.stat().st_size for p in files) / 1024:.0f} KB)")
    with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:
        scheduler = cluster.scheduler
        time.sleep(1.0)  # let the workers register
        before = own_rss()
        peak = {"rss": before, "tasks": 0, "tree": 0}
        stop = threading.Event()

        def sample() -> None:
            while not stop.is_set():
                peak["rss"] = max(peak["rss"], own_rss())
                peak["tasks"] = max(peak["tasks"], len(scheduler.tasks))
                peak["tree"] = max(peak["tree"], tree_memory(os.getpid())[0])  # with the workers
                time.sleep(0.1)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            r = run(files, args.workers, extra=("--engine", "dask", "--scheduler", scheduler.address))
        finally:
            stop.set()
            sampler.join()
    print(f"dask LocalCluster ({args.workers} single-threaded worker processes): {r['seconds']:.1f} s wall, "
          f"ranked {r['ranked']}, failed {r['failed']}, load average {r['load']:.1f}")
    print(f"  scheduler (this process): peak RSS {peak['rss'] / 2**20:.0f} MB "
          f"({(peak['rss'] - before) / 2**20:+.0f} MB over its {before / 2**20:.0f} MB before the run), "
          f"at most {peak['tasks']} tasks held at once")
    print(f"  client (the CLI): peak RSS {r['peak_rss_mb']:.0f} MB; scheduler and workers together: "
          f"peak RSS {peak['tree'] / 2**20:.0f} MB")
    if not args.skip_local:
        local = run(files, args.workers)
        print(f"local engine ({args.workers} worker processes), same files: {local['seconds']:.1f} s wall, "
              f"peak tree RSS {local['peak_rss_mb']:.0f} MB, load average {local['load']:.1f}; "
              f"dask / local = {r['seconds'] / local['seconds']:.2f}")
    print(f"load average now {load():.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
