"""Throughput of the tagging stage next to spaCy's bare tokenizer, in one run.

    .venv/bin/python bench/tag.py [FILES...] [--repeat N] [--cli FILE] [--cli-runs N]

In process: reads the real ``.txt`` documents of ``../shared/corpus`` in place
(nothing is copied), counts words as whitespace-separated tokens, and reports
words per second on one core for (1) ``spacy.blank("en")`` tokenizing the same
blocks and (2) ``policylens.nlp.tag_text`` (segmentation, lemmas, facets, cues,
classifier, ``TaggedSentence`` objects). Pipeline loading is timed separately.
Target (issue 13): >= 50,000 words/s.

The command line (issue 14's ``policylens tag FILE`` row): ``policylens tag FILE
--format jsonl`` on one long real document (default: the EU AI Act's text, about
53,000 words) against a bare process that imports spaCy, builds
``spacy.blank("en")`` with a sentencizer and runs it over the same file's
paragraphs. All are whole processes (start-up included), run in turn after a
warm-up; the ratio is the CLI's words/s over the bare process's, from the
medians of wall and of CPU time (user + system, steadier on a busy machine).
The CLI runs as a user runs it (a long document in two processes when two CPUs
are usable) and with ``--workers 1`` (one process). Target: >= 0.6 (wall).
"""

from __future__ import annotations

import argparse
import glob
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from _corpus import CORPUS

DEFAULT_GLOB = str(CORPUS / "*.txt")
DEFAULT_CLI_FILE = CORPUS / "eu_ai_act_2024.txt"
#: The anchor process: spaCy's tokenizer and sentencizer over the file's paragraphs.
BARE = """
import re, sys
import spacy
text = open(sys.argv[1], encoding="utf-8", errors="replace").read()
nlp = spacy.blank("en")
nlp.add_pipe("sentencizer")
paragraphs = [p for p in re.split(r"\\n[ \\t]*\\n+", text) if p.strip()]
print(sum(len(list(doc.sents)) for doc in nlp.pipe(paragraphs, batch_size=128)))
"""


def timed(cmd: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of one run of ``cmd``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def cli_ratio(path: Path, runs: int) -> None:
    """``policylens tag FILE`` vs the bare spaCy process on the same file, as a throughput ratio."""
    words = len(path.read_text(encoding="utf-8", errors="replace").split())
    tag = [sys.executable, "-m", "policylens.cli", "tag", str(path), "--format", "jsonl"]
    commands = {"bare spaCy process": [sys.executable, "-c", BARE, str(path)],
                "policylens tag FILE": tag,
                "  the same, --workers 1": [*tag, "--workers", "1"]}
    print(f"\ncommand line: {path.name}, {words:,} words; load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for cmd in commands.values():
        timed(cmd)  # warm-up: file cache, compiled-data cache
    walls: dict[str, list[float]] = {name: [] for name in commands}
    cpus: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, cmd in commands.items():
            wall, cpu = timed(cmd)
            walls[name].append(wall)
            cpus[name].append(cpu)
    for name in commands:
        wall, cpu = statistics.median(walls[name]), statistics.median(cpus[name])
        print(f"{name:28s} wall {wall:5.2f} s ({words / wall:>7,.0f} words/s)   "
              f"CPU {cpu:5.2f} s ({words / cpu:>7,.0f} words/s)")
    bare, ours, single = commands
    for name, what in ((ours, "tag/bare"), (single, "tag --workers 1/bare")):
        wall_ratio = statistics.median(walls[bare]) / statistics.median(walls[name])
        cpu_ratio = statistics.median(cpus[bare]) / statistics.median(cpus[name])
        print(f"throughput ratio {what}: wall {wall_ratio:.2f}, CPU {cpu_ratio:.2f} (target >= 0.6)")
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="*", help=f"text files (default: {DEFAULT_GLOB})")
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs")
    parser.add_argument("--cli", type=Path, default=DEFAULT_CLI_FILE,
                        help="the long document for the command-line ratio (default: %(default)s)")
    parser.add_argument("--cli-runs", type=int, default=3, help="runs of each process (0: skip)")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core: keep numpy single-threaded

    import spacy

    from policylens.nlp import load_pipeline, tag_text
    from policylens.nlp.pipeline import text_blocks

    files = [Path(f) for f in (args.files or sorted(glob.glob(DEFAULT_GLOB)))]
    texts = [f.read_text(encoding="utf-8", errors="replace") for f in files]
    words = sum(len(t.split()) for t in texts)
    print(f"{len(files)} files, {words:,} words, {sum(map(len, texts)):,} characters")

    t0 = time.perf_counter()
    nlp = load_pipeline()
    print(f"load_pipeline: {time.perf_counter() - t0:.2f} s (once per process)")

    blank = spacy.blank("en")
    blocks = [b.text for t in texts for b in text_blocks(t)]

    def run_tokenizer() -> None:
        for _ in blank.pipe(blocks, batch_size=256):
            pass

    def run_tag() -> int:
        pairs = zip(files, texts, strict=True)
        return sum(len(tag_text(t, source=str(f), nlp=nlp).sentences) for f, t in pairs)

    def best(fn: Callable[[], object]) -> tuple[float, float]:
        """The least wall and the least CPU seconds of ``--repeat`` runs (CPU: steadier when busy)."""
        walls, cpus = [], []
        for _ in range(args.repeat):
            t, c = time.perf_counter(), time.process_time()
            fn()
            walls.append(time.perf_counter() - t)
            cpus.append(time.process_time() - c)
        return min(walls), min(cpus)

    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    tok, tok_cpu = best(run_tokenizer)
    sentences = run_tag()
    tag, tag_cpu = best(run_tag)
    print(f"{'spacy.blank(en) tokenizer':28s} {words / tok:>10,.0f} words/s wall, "
          f"{words / tok_cpu:>10,.0f} words/s CPU  ({tok:.2f} s)")
    print(f"{'policylens tag_text':28s} {words / tag:>10,.0f} words/s wall, "
          f"{words / tag_cpu:>10,.0f} words/s CPU  ({tag:.2f} s, {sentences:,} sentences)")
    print(f"tag / tokenizer time: {tag / tok:.2f}x wall, {tag_cpu / tok_cpu:.2f}x CPU")
    if args.cli_runs > 0:
        cli_ratio(args.cli, args.cli_runs)


if __name__ == "__main__":
    main()
