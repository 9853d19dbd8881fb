"""Score the sector facets against AGORA's validated ``Applications:`` tags.

    .venv/bin/python bench/agora_sectors.py                # table: dev, test and all
    .venv/bin/python bench/agora_sectors.py --json         # the same as JSON
    .venv/bin/python bench/agora_sectors.py --errors dev   # list dev-half misses for error analysis
    .venv/bin/python bench/agora_sectors.py --speed        # words/s of the facets component alone
    .venv/bin/python bench/agora_sectors.py --unvalidated  # AGORA's annotated, unvalidated documents

The AGORA files are read in place; nothing is copied.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from _corpus import CORPUS
from policylens.errors import PolicylensError
from policylens.nlp.agora import (
    AGORA_TO_SECTOR,
    DEFAULT_MIN_SENTENCES,
    DEFAULT_MIN_SHARE_OF_TOP,
    BenchmarkResult,
    run_benchmark,
    score,
)

AGORA_DIR = CORPUS / "agora"
CORPUS_DIR = CORPUS


def _speed(corpus: Path) -> str:
    """Words/s of the tokenizer and of the facets component alone, on the corpus's .txt files."""
    import spacy

    texts = [p.read_text(encoding="utf-8", errors="replace") for p in sorted(corpus.glob("*.txt"))]
    nlp = spacy.blank("en")
    nlp.max_length = max([nlp.max_length, *(len(t) + 1 for t in texts)])
    facets = nlp.add_pipe("policylens_facets")
    started = time.perf_counter()
    docs = [nlp.make_doc(t) for t in texts]
    tokenize = time.perf_counter() - started
    words = sum(1 for doc in docs for tok in doc if not (tok.is_space or tok.is_punct))
    started = time.perf_counter()
    for doc in docs:
        facets(doc)
    component = time.perf_counter() - started
    return (
        f"{len(docs)} files, {words:,} words: tokenizer {words / tokenize:,.0f} words/s, "
        f"facets component alone {words / component:,.0f} words/s, "
        f"both {words / (tokenize + component):,.0f} words/s (one core)"
    )


def _table(result: BenchmarkResult) -> str:
    lines = [
        f"split={result.split}  documents={result.n_docs}  min_sentences={result.min_sentences}"
        f"  min_share_of_top={result.min_share_of_top}"
        + (f"  (no full text: {', '.join(result.missing_text)})" if result.missing_text else ""),
        f"{'sector':<26}{'support':>8}{'tp':>5}{'fp':>5}{'fn':>5}{'P':>8}{'R':>8}{'F1':>8}",
    ]
    rows = [*result.per_sector.items(), ("MICRO", result.micro)]
    for name, prf in rows:
        lines.append(
            f"{name:<26}{prf.support:>8}{prf.tp:>5}{prf.fp:>5}{prf.fn:>5}"
            f"{prf.precision:>8.3f}{prf.recall:>8.3f}{prf.f1:>8.3f}"
        )
    return "\n".join(lines)


def _errors(result: BenchmarkResult) -> str:
    lines = []
    for d in result.documents:
        fp, fn = d.predicted - d.gold, d.gold - d.predicted
        if fp or fn:
            counts = ", ".join(f"{s}={n}" for s, n in sorted(d.sentence_counts.items()))
            lines.append(f"{d.agora_id:>6}  FP={sorted(fp)} FN={sorted(fn)}  [{counts}]  {d.name[:70]}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--agora", type=Path, default=AGORA_DIR, help="folder with documents.csv and fulltext/"
    )
    parser.add_argument(
        "--min-sentences",
        type=int,
        default=DEFAULT_MIN_SENTENCES,
        help=f"sentences needed for a sector to be present (default {DEFAULT_MIN_SENTENCES})",
    )
    parser.add_argument(
        "--min-share-of-top",
        type=float,
        default=DEFAULT_MIN_SHARE_OF_TOP,
        help="a present sector also needs this fraction of the sentences of the document's most-mentioned "
        f"sector (default {DEFAULT_MIN_SHARE_OF_TOP}; 0 turns the condition off)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--errors", choices=["dev", "test", "all"], help="also list the misses of one split")
    parser.add_argument("--speed", action="store_true", help="only measure the component's words/s")
    parser.add_argument(
        "--unvalidated",
        action="store_true",
        help="score the documents AGORA annotated but did not validate (all of them, and those "
        "with at least one scored tag): how far its unreviewed tags agree with the same rule",
    )
    args = parser.parse_args(argv)
    if args.unvalidated and args.errors in ("dev", "test"):
        parser.error("--unvalidated documents are not split into dev and test halves; use --errors all")
    if args.speed:
        print(_speed(CORPUS_DIR))
        return 0
    started = time.perf_counter()
    try:
        results = run_benchmark(
            args.agora / "documents.csv",
            args.agora / "fulltext",
            min_sentences=args.min_sentences,
            min_share_of_top=args.min_share_of_top,
            splits=("all",) if args.unvalidated else ("dev", "test", "all"),
            which="unvalidated" if args.unvalidated else "validated",
        )
        if args.unvalidated:
            tagged = [d for d in results["all"].documents if d.gold]
            results["tagged"] = score(
                tagged,
                split="tagged",
                min_sentences=args.min_sentences,
                min_share_of_top=args.min_share_of_top,
            )
    except PolicylensError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    seconds = time.perf_counter() - started
    unscored = sorted(area for area, sector in AGORA_TO_SECTOR.items() if sector is None)
    if args.json:
        payload = {
            "seconds": round(seconds, 2),
            "unscored_agora_areas": unscored,
            "results": {k: r.to_dict(with_documents=args.errors == k) for k, r in results.items()},
        }
        print(json.dumps(payload, indent=2))
        return 0
    for result in results.values():
        print(_table(result), end="\n\n")
    print(f"unscored AGORA areas: {'; '.join(unscored)}; codebook sector not in AGORA: employment")
    print(f"{seconds:.1f} s")
    if args.errors:
        print(f"\nmisses on {args.errors}:\n{_errors(results[args.errors])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
