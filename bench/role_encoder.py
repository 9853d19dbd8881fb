"""The encoder role mode against the default tagger through ``tag``, accuracy and speed in one run.

    python bench/role_encoder.py [--shared ../shared/corpus] [--documents N] [--every-sentence]

Tags the held-out free AGORA documents (``labelled.heldout_document``: never evaluation
documents, never trained on) with ``policylens.nlp.tag`` exactly as ``policylens tag``
does, once with the default pipeline and once with ``--role-model encoder`` (and, with
``--every-sentence``, with the encoder's gate set to 1.0 so that it reads every
sentence). Each labelled sentence is found in the output by its hash; the report gives
role and label macro-F1 (per class too), the gain over the default with a paired
bootstrap 95% interval over documents, the load time of each pipeline, and words per
second (whitespace-separated words of the tagged sentences; tagging only, extraction
excluded; one process, wall time; documents alternate between the pipelines so that
both meet the same load). Run ``uptime`` beside it: the machine may be shared.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score, precision_recall_fscore_support

from policylens.extract import extract
from policylens.labels import LABELS, ROLES
from policylens.nlp.labelled import heldout_document, load_sentence_labels
from policylens.nlp.pipeline import build_pipeline, tag
from policylens.nlp.role_encoder import CONFIG_FILE, FACTORY, default_encoder_dir
from policylens.nlp.standoff import sentence_sha256

ROOT = Path(__file__).resolve().parents[1]
BOOTSTRAP = 1000


def _macro(gold: list[str], pred: list[str], names: tuple[str, ...]) -> float:
    return float(f1_score(gold, pred, labels=list(names), average="macro", zero_division=0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--documents", type=int, default=0, help="only the first N documents (0: all)")
    parser.add_argument("--every-sentence", action="store_true", help="also the encoder on every sentence")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    labels = load_sentence_labels(ROOT / "corpora" / "annotations" / "agora" / "sentences.jsonl")
    by_source: dict[str, list[dict]] = {}
    for row in labels:
        if heldout_document(row["source"]):
            by_source.setdefault(row["source"], []).append(row)
    sources = sorted(by_source)[: args.documents or None]
    with tempfile.TemporaryDirectory() as tmp:
        modes: dict[str, dict] = {"default": {}, "encoder": {"role_model": "encoder"}}
        if args.every_sentence:
            folder = Path(tmp) / "encoder"
            shutil.copytree(default_encoder_dir(), folder)
            settings = json.loads((folder / CONFIG_FILE).read_text()) | {"gate": 1.0}
            (folder / CONFIG_FILE).write_text(json.dumps(settings))
            modes["encoder, every sentence"] = {"role_model": "encoder", "encoder_dir": folder}
        pipelines, loads = {}, {}
        for name, kwargs in modes.items():
            start = time.perf_counter()
            pipelines[name] = build_pipeline(**kwargs)
            loads[name] = time.perf_counter() - start
        seconds = dict.fromkeys(modes, 0.0)
        words = 0
        # per mode: (source, gold role, predicted role, gold label, predicted label) of each labelled sentence
        found: dict[str, list[tuple[str, str, str, str, str]]] = {name: [] for name in modes}
        unsure = total = 0
        for source in sources:
            document = extract(args.shared / source)
            for name, nlp in pipelines.items():
                start = time.perf_counter()
                tagged = tag(document, nlp=nlp)
                seconds[name] += time.perf_counter() - start
                index: dict[str, int] = {}
                for i, s in enumerate(tagged.sentences):
                    index.setdefault(sentence_sha256(s.text), i)
                if name == "default":
                    words += sum(len(s.text.split()) for s in tagged.sentences)
                    gate = pipelines["encoder"].get_pipe(FACTORY).settings.gate  # type: ignore[attr-defined]
                    unsure += sum(max(s.role_probs.values()) < gate for s in tagged.sentences)
                    total += len(tagged.sentences)
                for row in by_source[source]:
                    i = index.get(row["sha256"])
                    if i is not None:
                        s = tagged.sentences[i]
                        found[name].append((source, row["role"], s.role, row["label"], s.label))
    base = found["default"]
    report: dict = {"documents": len(sources), "sentences": len(base), "words": words,
                    "encoder_share": round(unsure / max(total, 1), 3), "modes": {}}
    print(f"{len(sources)} held-out AGORA documents, {words} words, {total} sentences tagged, "
          f"{len(base)} labelled found; the encoder reads {unsure / max(total, 1):.0%} of the sentences")
    rng = np.random.default_rng(0)
    docs = sorted({r[0] for r in base})
    rows_of = {d: [k for k, r in enumerate(base) if r[0] == d] for d in docs}
    picks = [[k for j in rng.integers(0, len(docs), len(docs)) for k in rows_of[docs[j]]]
             for _ in range(BOOTSTRAP)]
    for name in modes:
        rows = found[name]
        assert [r[:2] for r in rows] == [r[:2] for r in base]  # the same sentences in every mode
        entry: dict = {"load_seconds": round(loads[name], 2),
                       "words_per_second": round(words / seconds[name]),
                       "seconds": round(seconds[name], 1)}
        for part, names, g, p in (("role", ROLES, 1, 2), ("label", LABELS, 3, 4)):
            gold, pred = [r[g] for r in rows], [r[p] for r in rows]
            pr, rc, f1, _ = precision_recall_fscore_support(gold, pred, labels=list(names), zero_division=0)
            entry[part] = {"macro_f1": round(_macro(gold, pred, names), 4),
                           "per_class": {c: [round(float(pr[k]), 2), round(float(rc[k]), 2),
                                             round(float(f1[k]), 2)] for k, c in enumerate(names)}}
            if name != "default":
                bpred = [r[p] for r in base]
                gains = [_macro([gold[k] for k in ks], [pred[k] for k in ks], names)
                         - _macro([gold[k] for k in ks], [bpred[k] for k in ks], names) for ks in picks]
                entry[part]["gain"] = round(_macro(gold, pred, names) - _macro(gold, bpred, names), 4)
                entry[part]["gain_ci95"] = [round(float(np.percentile(gains, q)), 4) for q in (2.5, 97.5)]
        report["modes"][name] = entry
        ratio = seconds[name] / seconds["default"]
        print(f"\n{name}: load {loads[name]:.1f} s, {entry['words_per_second']} words/s "
              f"({ratio:.1f}x the default's time)")
        for part in ("role", "label"):
            e = entry[part]
            gain = f"  gain {e['gain']:+.4f} {e['gain_ci95']}" if "gain" in e else ""
            print(f"  {part} macro-F1 {e['macro_f1']:.4f}{gain}   "
                  + "  ".join(f"{c} {v[0]:.2f}/{v[1]:.2f}/{v[2]:.2f}" for c, v in e["per_class"].items()))
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
