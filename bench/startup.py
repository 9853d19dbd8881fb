"""Start-up of ``policylens tag --text`` as a ratio to a bare spaCy process, measured in one run.

The anchor is a fresh process that imports spaCy, builds ``spacy.blank("en")`` with a
sentencizer and processes the same sentence. Both commands run alternately, after one
warm-up run of each (which also fills the compiled-pattern cache), and the medians of
``--runs`` wall times are compared. Target (issue 14): ratio <= 1.3.

    python bench/startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

SENTENCE = "Providers shall register their systems."
BARE = ("import spacy; nlp = spacy.blank('en'); nlp.add_pipe('sentencizer'); "
        f"doc = nlp({SENTENCE!r}); print(len(list(doc.sents)))")


def wall(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    commands = {
        "bare spaCy": [sys.executable, "-c", BARE],
        "policylens tag --text": [sys.executable, "-m", "policylens.cli", "tag", "--text", SENTENCE],
        "policylens --help": [sys.executable, "-m", "policylens.cli", "--help"],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    for cmd in commands.values():
        wall(cmd)  # warm-up: file cache, compiled-pattern cache
    for _ in range(args.runs):
        for name, cmd in commands.items():
            times[name].append(wall(cmd))
    medians = {name: statistics.median(ts) for name, ts in times.items()}
    for name, median in medians.items():
        print(f"{name:24s} median {median:6.2f} s  (min {min(times[name]):.2f}, max {max(times[name]):.2f})")
    ratio = medians["policylens tag --text"] / medians["bare spaCy"]
    print(f"ratio tag/bare: {ratio:.2f}x (target <= 1.30x)")


if __name__ == "__main__":
    main()
