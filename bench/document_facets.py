"""Score the document facet models on AGORA's validated, evaluation-only documents.

    .venv/bin/python bench/document_facets.py                    # sector and instrument, tables
    .venv/bin/python bench/document_facets.py --families agora   # AGORA's own taxonomy too
    .venv/bin/python bench/document_facets.py --json             # the same as JSON
    .venv/bin/python bench/document_facets.py --errors sector    # each document's misses
    .venv/bin/python bench/document_facets.py --speed            # facets' share of the rank work

The documents are those ``../shared/corpus/eval_documents.txt`` lists under
``agora/fulltext/`` whose AGORA tags were validated by AGORA's reviewers (158);
the models never saw them. Each is read in place and processed as ``rank``
processes a file (extract, tag, score), then its facets are decided. Reported
per family: micro and macro F1, per-label P/R/F1, a bootstrap 95% interval
over documents, and the phrase-list rule of before (sectors:
``agora.present_sectors``; instruments: mentioned in at least two sentences)
on the same documents; the time the facets took beside extracting, tagging and
scoring those documents. ``--speed`` times the same on the corpus's top-level
framework documents (long PDFs and texts) instead, each document once per family setting.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from _corpus import CORPUS
from policylens.errors import PolicylensError
from policylens.nlp.agora import present_sectors
from policylens.nlp.agora_labels import evaluation_only, family_labels, read_agora
from policylens.nlp.document_facets import FAMILIES, document_facets, resolve_families
from policylens.nlp.facet_model import load_family

Pairs = list[tuple[frozenset[str], frozenset[str]]]  # (gold, predicted) per document


def prf(pairs: Pairs, labels: Sequence[str]) -> dict[str, Any]:
    """Micro P/R/F1, macro-F1 and per-label P/R/F1 over (document, label) pairs."""
    per: dict[str, dict[str, Any]] = {}
    tp_all = fp_all = fn_all = 0
    for label in labels:
        tp = sum(1 for g, p in pairs if label in g and label in p)
        fp = sum(1 for g, p in pairs if label not in g and label in p)
        fn = sum(1 for g, p in pairs if label in g and label not in p)
        tp_all, fp_all, fn_all = tp_all + tp, fp_all + fp, fn_all + fn
        per[label] = _scores(tp, fp, fn)
    return {"micro": _scores(tp_all, fp_all, fn_all),
            "macro_f1": round(float(np.mean([v["f1"] for v in per.values()])), 4) if per else 0.0,
            "per_label": per}


def _scores(tp: int, fp: int, fn: int) -> dict[str, Any]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return {"support": tp + fn, "tp": tp, "fp": fp, "fn": fn,
            "precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4)}


def _micro_f1(counts: np.ndarray) -> float:
    tp, fp, fn = counts
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def bootstrap(model: Pairs, baseline: Pairs, labels: Sequence[str], *, reps: int = 2000,
              seed: int = 0) -> dict[str, list[float]]:
    """95% intervals of the model's micro-F1, the baseline's and their difference, resampling documents."""
    def counts(pairs: Pairs) -> np.ndarray:
        return np.array([[len(g & p & set(labels)), len((p - g) & set(labels)), len((g - p) & set(labels))]
                         for g, p in pairs], dtype=float)

    a, b = counts(model), counts(baseline)
    rng = np.random.default_rng(seed)
    fa, fb = [], []
    for _ in range(reps):
        idx = rng.integers(0, len(a), len(a))
        fa.append(_micro_f1(a[idx].sum(axis=0)))
        fb.append(_micro_f1(b[idx].sum(axis=0)))
    diff = np.array(fa) - np.array(fb)

    def ci(v: Sequence[float] | np.ndarray) -> list[float]:
        return [round(float(np.percentile(v, 2.5)), 4), round(float(np.percentile(v, 97.5)), 4)]

    return {"model": ci(fa), "baseline": ci(fb), "difference": ci(diff)}


def _baseline(family: str, mentions: Mapping[str, int], labels: Sequence[str]) -> frozenset[str]:
    if family == "sector":
        return frozenset(present_sectors(dict(mentions))) & set(labels)
    return frozenset(name for name in labels if mentions.get(name, 0) >= 2)


def _mention_counts(tagged: Any, kind: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for sentence in tagged.sentences:
        for name in getattr(sentence.facets, kind):
            counts[name] = counts.get(name, 0) + 1
    return counts


def run(agora_dir: Path, corpus: Path, families: Sequence[str]) -> dict[str, Any]:
    from policylens.extract import extract
    from policylens.nlp import tag
    from policylens.rank.scoring import score

    held_out = evaluation_only(corpus)
    records = [r for r in read_agora(agora_dir / "documents.csv", agora_dir / "fulltext")
               if r.agora_id in held_out and r.validated]
    models = {f: load_family(f) for f in families}
    labels = {f: m.names for f, m in models.items()}
    pairs: dict[str, Pairs] = {f: [] for f in families}
    base: dict[str, Pairs] = {f: [] for f in families if f != "agora"}
    per_doc: list[dict[str, Any]] = []
    other_seconds = facet_seconds = 0.0
    words = 0
    for record in records:
        started = time.perf_counter()
        tagged = tag(extract(record.path))
        score(tagged)
        middle = time.perf_counter()
        found = document_facets(tagged, families=families)
        facet_seconds += time.perf_counter() - middle
        other_seconds += middle - started
        words += sum(len(s.text.split()) for s in tagged.sentences)
        row: dict[str, Any] = {"agora_id": record.agora_id, "name": record.name}
        for family in families:
            gold = family_labels(family, record.tags) & set(labels[family])
            predicted = frozenset(found[family].labels)
            pairs[family].append((gold, predicted))
            row[family] = {"gold": sorted(gold), "predicted": sorted(predicted)}
            if family != "agora":
                rule = _baseline(family, _mention_counts(tagged, family), labels[family])
                base[family].append((gold, rule))
                row[family]["baseline"] = sorted(rule)
        per_doc.append(row)
    results: dict[str, Any] = {}
    for family in families:
        entry = {"model": prf(pairs[family], labels[family])}
        if family in base:
            entry["baseline"] = prf(base[family], labels[family])
            entry["bootstrap_95"] = bootstrap(pairs[family], base[family], labels[family])
        else:
            alone = bootstrap(pairs[family], pairs[family], labels[family])
            entry["bootstrap_95"] = {"model": alone["model"]}
        results[family] = entry
    return {"documents": len(records), "families": results, "per_document": per_doc,
            "timing": {"extract_tag_score_seconds": round(other_seconds, 2),
                       "facets_seconds": round(facet_seconds, 3),
                       "facets_share": round(facet_seconds / other_seconds, 4) if other_seconds else None,
                       "words": words}}


def speed(corpus: Path, families: Sequence[str]) -> dict[str, Any]:
    """Seconds of extract + tag + score and of the document facets, over the top-level documents."""
    from policylens.extract import extract
    from policylens.nlp import tag
    from policylens.rank.scoring import score

    files = sorted(p for p in corpus.iterdir() if p.is_file() and p.suffix.lower() in (".pdf", ".txt", ".md"))
    document_facets(tag(extract(files[0])), families=families)  # load the models before timing
    other = facets = 0.0
    for path in files:
        started = time.perf_counter()
        tagged = tag(extract(path))
        score(tagged)
        middle = time.perf_counter()
        document_facets(tagged, families=families)
        facets += time.perf_counter() - middle
        other += middle - started
    return {"documents": len(files), "extract_tag_score_seconds": round(other, 2),
            "facets_seconds": round(facets, 3), "facets_share": round(facets / other, 4)}


def _table(family: str, entry: Mapping[str, Any]) -> str:
    model, baseline = entry["model"], entry.get("baseline")
    head = f"{family}: {'label':<58}{'sup':>5}{'P':>7}{'R':>7}{'F1':>7}"
    lines = [head + ("   rule P / R / F1" if baseline else "")]
    for label, s in model["per_label"].items():
        line = (f"    {label[:62]:<62}{s['support']:>5}"
                f"{s['precision']:>7.3f}{s['recall']:>7.3f}{s['f1']:>7.3f}")
        if baseline:
            b = baseline["per_label"][label]
            line += f"   {b['precision']:.3f} / {b['recall']:.3f} / {b['f1']:.3f}"
        lines.append(line)
    m = model["micro"]
    ci = entry["bootstrap_95"]
    lines.append(f"    MICRO model   P {m['precision']:.3f}  R {m['recall']:.3f}  F1 {m['f1']:.3f} "
                 f"[95% {ci['model'][0]:.3f}, {ci['model'][1]:.3f}]  macro-F1 {model['macro_f1']:.3f}")
    if baseline:
        b = baseline["micro"]
        lines.append(f"    MICRO rule    P {b['precision']:.3f}  R {b['recall']:.3f}  F1 {b['f1']:.3f} "
                     f"[95% {ci['baseline'][0]:.3f}, {ci['baseline'][1]:.3f}]  "
                     f"macro-F1 {baseline['macro_f1']:.3f}")
        lines.append(f"    model - rule micro-F1 95% interval [{ci['difference'][0]:+.3f}, "
                     f"{ci['difference'][1]:+.3f}]")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="the shared corpus folder")
    parser.add_argument("--families", default="codebook",
                        help="codebook (sector, instrument), agora (all three), or a list of "
                        + ", ".join(FAMILIES))
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    parser.add_argument("--errors", choices=FAMILIES, help="also list each document's misses in one family")
    parser.add_argument("--speed", action="store_true",
                        help="only time the facets against extract + tag + score on the top-level documents")
    args = parser.parse_args(argv)
    try:
        families = resolve_families(args.families)
        if args.speed:
            timing = speed(args.corpus, families)
            print(json.dumps(timing) if args.json else
                  f"{timing['documents']} documents: extract + tag + score "
                  f"{timing['extract_tag_score_seconds']:.1f} s, document facets ({', '.join(families)}) "
                  f"{timing['facets_seconds']:.2f} s = {100 * timing['facets_share']:.1f}% on top")
            return 0
        result = run(args.corpus / "agora", args.corpus, families)
    except PolicylensError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        if not args.errors:
            result.pop("per_document")
        print(json.dumps(result, indent=2))
        return 0
    print(f"{result['documents']} validated evaluation-only AGORA documents")
    for family, entry in result["families"].items():
        print(_table(family, entry), end="\n\n")
    t = result["timing"]
    print(f"time: extract + tag + score {t['extract_tag_score_seconds']:.1f} s, document facets "
          f"{t['facets_seconds']:.2f} s ({100 * t['facets_share']:.1f}% on top; {t['words']:,} words)")
    if args.errors:
        print(f"\nmisses ({args.errors}):")
        for row in result["per_document"]:
            r = row[args.errors]
            fp, fn = set(r["predicted"]) - set(r["gold"]), set(r["gold"]) - set(r["predicted"])
            if fp or fn:
                print(f"{row['agora_id']:>6}  FP={sorted(fp)} FN={sorted(fn)}  {row['name'][:60]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
