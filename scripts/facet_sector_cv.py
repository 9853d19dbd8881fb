"""Grouped cross-validation of the sector facet on AGORA training documents only.

Usage (in the project's venv, from the repository)::

    PYTHONPATH=src python scripts/facet_sector_cv.py --documents ../shared/corpus \
        [--seeds 0 1 2 3 4] [--cache /tmp/facet_sector_cv.json.gz] [--json OUT]
        [--labels corpora/annotations/agora/applications_review.jsonl]

Reproduces the fifth round of docs/facets.md ("what limits the sector facet") for
today's trainer and the two best variants tried there. It reads only the training
documents (``train_facets``' split: evaluation-only documents are dropped before
anything is read from them), tags them as ``rank`` would, and runs the trainer's
two-stage sector procedure (word regressions, combiner) in 5 outer folds that keep
near-duplicate documents together (5-word shingles shared by more than half of the
shorter document). For each fold seed it reports out-of-fold micro/macro-F1 on all
labelled training documents and on the validated ones, with thresholds chosen as the
trainer chooses them on all out-of-fold predictions ("in-sample") and cross-fitted
(each fold's thresholds chosen on the other folds), and a bootstrap interval over
documents of each variant's cross-fitted micro-F1 minus today's.

With ``--labels FILE`` (Applications labels in the format of
``corpora/annotations/agora/applications.jsonl``) it compares training labels instead of
features: today's, the file's in place of the Applications of every unvalidated document it
labels ("replace"), both together ("union"), and the file's only where today's come from the
project's first hand labels ("replace the hand labels"). Validated documents keep AGORA's
reviewed tags in every variant, so their scores and the bootstrap compare like with like (the
sixth round of docs/facets.md).

``--cache`` keeps the tagged sentences (real text: keep it outside the repository).
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
from scipy import sparse

from policylens.nlp import train_facets as tf
from policylens.nlp.agora_labels import (
    APPLICATION_PREFIX,
    AgoraRecord,
    default_application_labels,
    evaluation_only,
    family_labels,
    matches_of,
    read_agora,
    read_application_labels,
    split_records,
    with_application_labels,
)
from policylens.nlp.facet_features import document_features, words
from policylens.nlp.types import Facets

Extra = Callable[[np.ndarray], np.ndarray]  # document rows -> rows x sectors x k extra combiner features


def load(corpus: Path, cache: Path) -> tuple[list[Any], list[Any], dict[str, list[Any]]]:
    """Labelled training records (as the trainer builds them), all training records, sentences by id."""
    held_out = evaluation_only(corpus)
    records = read_agora(corpus / "agora" / "documents.csv", corpus / "agora" / "fulltext")
    human, unreviewed, _ = split_records(records, held_out)
    human = [r for r in human if r.tags]
    human, _ = with_application_labels(human, read_application_labels(default_application_labels(), held_out))
    train = human + unreviewed
    assert not any(r.agora_id in held_out for r in train)
    if cache.is_file():
        with gzip.open(cache, "rt", encoding="utf-8") as handle:
            stored = json.load(handle)
    else:
        tagged, _ = tf.tag_records(train, workers=2)
        stored = {k: [[s.text, list(s.facets.sector), list(s.facets.instrument), s.section]
                      for s in d.sentences] for k, d in tagged.items()}
        with gzip.open(cache, "wt", encoding="utf-8") as handle:
            json.dump(stored, handle)
    if set(stored) & held_out:
        raise SystemExit(f"{cache} holds evaluation-only documents: delete it")
    sentences = {k: [SimpleNamespace(text=t, facets=Facets(sector=tuple(s), instrument=tuple(i)), section=h)
                     for t, s, i, h in v] for k, v in stored.items()}
    labelled = [r for r in human if r.agora_id in sentences]
    return labelled, [r for r in train if r.agora_id in sentences], sentences


def near_duplicate_groups(texts: Sequence[list[str]], share: float = 0.5) -> np.ndarray:
    """A group id per document; documents sharing more than ``share`` of the shorter one's 5-word
    shingles are in one group (transitively)."""
    shingles = [{hash(tuple(w[i:i + 5])) for i in range(max(len(w) - 4, 1))} for w in texts]
    parent = list(range(len(texts)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in itertools.combinations(range(len(texts)), 2):
        if shingles[a] and shingles[b] and \
                len(shingles[a] & shingles[b]) > share * min(len(shingles[a]), len(shingles[b])):
            parent[find(a)] = find(b)
    return np.array([find(i) for i in range(len(texts))])


def grouped_folds(groups: np.ndarray, k: int, seed: int) -> list[np.ndarray]:
    order = np.random.default_rng(seed).permutation(np.unique(groups))
    fold_of = {g: i % k for i, g in enumerate(order)}
    assigned = np.array([fold_of[g] for g in groups])
    return [np.flatnonzero(assigned == i) for i in range(k)]


THRESHOLDS = tf.THRESHOLDS


def _f1(tp: float, fp: float, fn: float) -> float:
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def _counts(pred: np.ndarray, y: np.ndarray) -> tuple[int, int, int]:
    return int((pred & (y == 1)).sum()), int((pred & (y == 0)).sum()), int((~pred & (y == 1)).sum())


def _best(p: np.ndarray, y: np.ndarray, near: float) -> float:
    return max(THRESHOLDS, key=lambda t: (_f1(*_counts(p >= t, y)), -abs(t - near)))


def thresholds(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The trainer's rule: the family's best threshold moved toward each sector's own by its support."""
    family = _best(p, y, 0.5)
    out = []
    for j in range(y.shape[1]):
        w = y[:, j].sum() / (y[:, j].sum() + tf.SHRINK)
        out.append(w * _best(p[:, j], y[:, j], family) + (1 - w) * family)
    return np.array(out)


def scores(pred: np.ndarray, y: np.ndarray) -> dict[str, float]:
    per = [_f1(*_counts(pred[:, j], y[:, j])) for j in range(y.shape[1]) if y[:, j].any()]
    return {"micro_f1": round(_f1(*_counts(pred, y)), 4), "macro_f1": round(float(np.mean(per)), 4)}


def bootstrap(a: np.ndarray, b: np.ndarray, resamples: int = 4000) -> list[float]:
    """Mean and 95% interval of micro-F1(b) - micro-F1(a); ``a``, ``b``: documents x (tp, fp, fn)."""
    rng = np.random.default_rng(0)
    d = []
    for _ in range(resamples):
        i = rng.integers(0, len(a), len(a))
        d.append(_f1(*b[i].sum(0)) - _f1(*a[i].sum(0)))
    return [round(float(np.mean(d)), 4), round(float(np.percentile(d, 2.5)), 4),
            round(float(np.percentile(d, 97.5)), 4)]


def relabelled(records: Sequence[AgoraRecord], labels: Path, held_out: frozenset[str]
               ) -> dict[str, list[frozenset[str]]]:
    """Each label variant's tags per record; validated records always keep AGORA's."""
    new = read_application_labels(labels, held_out)
    out: dict[str, list[frozenset[str]]] = {"today": [r.tags for r in records]}
    for mode in ("replace", "union", "replace the hand labels"):
        tags = []
        for r in records:
            label = new.get(r.agora_id)
            keep = mode == "replace the hand labels" and not r.hand_applications
            if r.validated or label is None or keep:
                tags.append(r.tags)
                continue
            kept = r.tags if mode == "union" else frozenset(t for t in r.tags
                                                              if not t.startswith(APPLICATION_PREFIX))
            tags.append(kept | label.applications)
        out[mode] = tags
    return out


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=Path, default=Path("../shared/corpus"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--cache", type=Path, default=Path("/tmp/facet_sector_cv.json.gz"))
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--labels", type=Path, default=None,
                        help="compare training labels: this file's Applications against today's")
    args = parser.parse_args(argv)

    records, train, sentences = load(args.documents, args.cache)
    texts = {r.agora_id: [w for s in sentences[r.agora_id] for w in words(s.text)] for r in train}
    vocabulary = tf.build_vocabulary([texts[r.agora_id] for r in train], stop_words=tf._stop_words())
    feats = {r.agora_id: document_features(sentences[r.agora_id], vocabulary) for r in records}
    sectors = sorted({s for r in records for s in family_labels("sector", r.tags)})
    y = np.array([[int(s in family_labels("sector", r.tags)) for s in sectors] for r in records])
    labels = {"today": y}
    if args.labels is not None:
        labels = {name: np.array([[int(s in family_labels("sector", t)) for s in sectors] for t in tags])
                  for name, tags in relabelled(records, args.labels, evaluation_only(args.documents)).items()}
    validated = np.array([r.validated for r in records])
    weight = np.ones(len(records))
    x = sparse.csr_matrix(np.vstack([feats[r.agora_id].dense() for r in records]))
    mentions = np.stack([np.vstack([feats[r.agora_id].mention_features(matches_of("sector", s))
                                    for r in records]) for s in sectors], axis=1)
    groups = near_duplicate_groups([texts[r.agora_id] for r in records])
    n = np.rint(np.expm1(mentions[:, :, 0]))  # sentences that mention each sector (exact integers)
    headings = np.zeros_like(n)
    for i, r in enumerate(records):
        for s in sentences[r.agora_id]:
            heading = bool(s.section) and s.text.strip() == s.section.strip()
            if heading or (len(s.text) < 120 and s.text.isupper()):
                for name in s.facets.sector:
                    if name in sectors:
                        headings[i, sectors.index(name)] += 1

    def second(rows: np.ndarray) -> np.ndarray:
        m = n[rows]
        runner_up = np.sort(m, axis=1)[:, -2:-1]
        many = np.log1p((m >= 2).sum(axis=1, keepdims=True)).repeat(len(sectors), axis=1)
        return np.stack([((m >= runner_up) & (m > 0)).astype(float), many], axis=2)

    variants: dict[str, Extra | None] = {
        "today": None,
        "+ headings": lambda rows: np.stack([np.log1p(headings[rows]), (headings[rows] > 0) * 1.0], 2),
        "+ second-most count, sectors with >= 2": second,
    }
    if args.labels is not None:  # label variants: today's features, different training labels
        variants = dict.fromkeys(labels)
    targets = {name: labels.get(name, y) for name in variants}
    print(f"{len(records)} labelled training documents ({validated.sum()} validated), "
          f"{len(set(groups))} groups of near-duplicates, sectors: {len(sectors)}")
    results: dict[str, dict[str, list[Any]]] = {v: {"rows": [], "counts": []} for v in variants}
    for seed in args.seeds:
        probs = {v: np.zeros(y.shape) for v in variants}
        fold_id = np.zeros(len(y), dtype=int)
        for f, test in enumerate(grouped_folds(groups, tf.FOLDS, seed)):
            train_rows = np.setdiff1d(np.arange(len(y)), test)
            fold_id[test] = f
            # the word regressions once per labelling, the combiners once per variant
            for target in {id(t): t for t in targets.values()}.values():
                inner = tf._inner_word_logits(x, target, weight, train_rows, seed)
                outer = tf._word_logits(x, target, weight, train_rows, test)
                for name, extra in variants.items():
                    if targets[name] is not target:
                        continue

                    def rows_of(rows: np.ndarray, logits: np.ndarray,
                                extra: Extra | None = extra) -> np.ndarray:
                        base = tf._combiner_rows(mentions[rows], logits)
                        return base if extra is None else np.concatenate([base, extra(rows)], axis=2)

                    combiner = tf._fit_combiner(rows_of(train_rows, inner), target[train_rows],
                                                weight[train_rows], sectors)
                    probs[name][test] = tf._sigmoid(combiner.logits(rows_of(test, outer), tuple(sectors)))
        for name, p in probs.items():
            gold = targets[name]  # validated rows are the same in every labelling
            insample = p >= thresholds(p, gold)
            crossfit = np.zeros_like(insample)
            for f in np.unique(fold_id):
                other = fold_id != f
                crossfit[fold_id == f] = p[fold_id == f] >= thresholds(p[other], gold[other])
            row = {"seed": seed, "all_in_sample": scores(insample, gold),
                   "all_cross_fitted": scores(crossfit, gold),
                   "validated_in_sample": scores(insample[validated], gold[validated]),
                   "validated_cross_fitted": scores(crossfit[validated], gold[validated])}
            results[name]["rows"].append(row)
            results[name]["counts"].append(np.stack([(crossfit & (gold == 1)).sum(1),
                                                     (crossfit & (gold == 0)).sum(1),
                                                     (~crossfit & (gold == 1)).sum(1)], axis=1).astype(float))
            print(seed, f"{name:40s}", json.dumps({k: v for k, v in row.items() if k != "seed"}), flush=True)
    report: dict[str, Any] = {}
    base = np.mean(results["today"]["counts"], axis=0)
    for name, got in results.items():
        keys = ("all_in_sample", "all_cross_fitted", "validated_in_sample", "validated_cross_fitted")
        summary: dict[str, Any] = {k: {m: round(float(np.mean([r[k][m] for r in got["rows"]])), 4)
                                       for m in ("micro_f1", "macro_f1")} for k in keys}
        summary["validated_cross_fitted"]["micro_sd"] = round(
            float(np.std([r["validated_cross_fitted"]["micro_f1"] for r in got["rows"]])), 4)
        counts = np.mean(got["counts"], axis=0)
        if name != "today":
            summary["gain_vs_today_validated"] = bootstrap(base[validated], counts[validated])
            if args.labels is None:  # with other labels, "all" is scored against other gold
                summary["gain_vs_today_all"] = bootstrap(base, counts)
        report[name] = summary
        print(f"{name:40s}", json.dumps(summary))
    if args.json is not None:
        args.json.write_text(json.dumps({"seeds": args.seeds, "variants": report}, indent=2) + "\n")


if __name__ == "__main__":
    main()
