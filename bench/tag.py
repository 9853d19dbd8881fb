"""Throughput of the tagging stage next to spaCy's bare tokenizer, in one run.

    .venv/bin/python bench/tag.py [FILES...] [--repeat N]

Reads the real ``.txt`` documents of ``../shared/corpus`` in place (nothing
is copied), counts words as whitespace-separated tokens, and reports words per
second on one core for (1) ``spacy.blank("en")`` tokenizing the same blocks and
(2) ``policylens.nlp.tag_text`` (segmentation, lemmas, facets, cues, classifier,
``TaggedSentence`` objects). Pipeline loading is timed separately.
"""

from __future__ import annotations

import argparse
import glob
import os
import time
from collections.abc import Callable
from pathlib import Path

from _corpus import CORPUS

DEFAULT_GLOB = str(CORPUS / "*.txt")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="*", help=f"text files (default: {DEFAULT_GLOB})")
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs")
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

    def best(fn: Callable[[], object]) -> float:
        times = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        return min(times)

    tok = best(run_tokenizer)
    sentences = run_tag()
    tag = best(run_tag)
    print(f"{'spacy.blank(en) tokenizer':28s} {words / tok:>10,.0f} words/s  ({tok:.2f} s)")
    print(f"{'policylens tag_text':28s} {words / tag:>10,.0f} words/s  "
          f"({tag:.2f} s, {sentences:,} sentences)")
    print(f"tag / tokenizer time: {tag / tok:.2f}x")


if __name__ == "__main__":
    main()
