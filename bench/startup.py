"""Start-up of ``policylens tag --text`` as a ratio to a bare spaCy process, measured in one run.

The anchor is a fresh process that imports spaCy, builds ``spacy.blank("en")`` with a
sentencizer and processes the same sentence. The commands run in turn, after one
warm-up run of each (which also fills the compiled-data cache), and the medians of
``--runs`` times are compared: wall time (what a user waits) and CPU time (user +
system of the child; steadier than wall time on a shared, busy machine). The load
average is printed with the figures. Target (issue 14): ratio <= 1.3.

    python bench/startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time

SENTENCE = "Providers shall register their systems."
BARE = ("import spacy; nlp = spacy.blank('en'); nlp.add_pipe('sentencizer'); "
        f"doc = nlp({SENTENCE!r}); print(len(list(doc.sents)))")


def run(cmd: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of one run of ``cmd``; ``extract -`` reads the
    sentence from stdin."""
    stdin = f"{SENTENCE}\n".encode() if cmd[-1] == "-" else None
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, check=True, input=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    python = sys.executable
    commands = {
        "bare spaCy": [python, "-c", BARE],
        "policylens tag --text": [python, "-m", "policylens.cli", "tag", "--text", SENTENCE],
        "policylens --help": [python, "-m", "policylens.cli", "--help"],
        "policylens extract": [python, "-m", "policylens.cli", "extract", "-"],
    }
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    walls: dict[str, list[float]] = {name: [] for name in commands}
    cpus: dict[str, list[float]] = {name: [] for name in commands}
    for cmd in commands.values():
        run(cmd)  # warm-up: file cache, compiled-data cache
    for _ in range(args.runs):
        for name, cmd in commands.items():
            wall, cpu = run(cmd)
            walls[name].append(wall)
            cpus[name].append(cpu)
    print(f"load average after:  {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    wall_med = {name: statistics.median(ts) for name, ts in walls.items()}
    cpu_med = {name: statistics.median(ts) for name, ts in cpus.items()}
    for name in commands:
        print(f"{name:24s} wall median {wall_med[name]:5.2f} s (min {min(walls[name]):.2f}, "
              f"max {max(walls[name]):.2f})   CPU median {cpu_med[name]:5.2f} s")
    anchor, ours = "bare spaCy", "policylens tag --text"
    print(f"ratio tag/bare: wall {wall_med[ours] / wall_med[anchor]:.2f}x, "
          f"CPU {cpu_med[ours] / cpu_med[anchor]:.2f}x (target <= 1.30x)")


if __name__ == "__main__":
    main()
