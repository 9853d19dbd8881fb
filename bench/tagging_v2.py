"""Codebook v2.0 figures of the shipped tagger on the two real evaluation sets.

Usage::

    python bench/tagging_v2.py [--shared ../shared/corpus] [--model models/governance] [--json OUT]
    python bench/tagging_v2.py --part heldout_agora   # held-out AGORA documents (not an evaluation set)
    python bench/tagging_v2.py --part heldout_written # held-out written documents (not one either)
    python bench/tagging_v2.py --role-model encoder   # the encoder role mode (docs/tagging.md)
    python bench/tagging_v2.py --role-model encoder --paired --part heldout_agora --part heldout_written
    python bench/tagging_v2.py --model /tmp/new --against models/governance --part heldout_agora

Scores the development set (``labeled/dev_sentences.jsonl``, each sentence found
in its document for its context) and the stand-off set in
``corpora/annotations/eval/real``: label, role and scope, per class, with
bootstrap 95% intervals over documents, confusion matrices and the ablation
(true scope, true role, both, the flat content model). Neither set is ever
trained on; nothing here fits anything. ``--part heldout_agora`` scores instead the
held-out 20% of the free AGORA documents (``labelled.heldout_document``), which the
models were not trained on and on which their settings may be chosen; ``--part
heldout_written`` the held-out documents among the project's written ones
(``corpora/annotations/documents``), chosen the same way. With ``--role-model encoder
--paired`` each part is scored with the default (linear) role too, and the gain of the
encoder mode in role and label macro-F1 is given with a paired bootstrap 95% interval
over documents (the same resampled documents for both, 1,000 resamples). ``--against DIR``
does the same for two model folders: ``--model`` against ``DIR`` (in the output, ``linear`` is
``DIR``'s model and ``encoder`` the ``--model`` one), e.g. a retrained role model against the
shipped one.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score, precision_recall_fscore_support

from policylens.labels import LABELS, ROLES
from policylens.nlp.evaluate_parts import VARIANTS, Item, Models, dev_items, score_items, standoff_items
from policylens.nlp.labelled import heldout_document, written_documents_dir
from policylens.nlp.model import GovernanceModel, default_model_dir
from policylens.nlp.pipeline import build_pipeline
from policylens.nlp.role import RoleModel
from policylens.nlp.scope import ScopeModel

ROOT = Path(__file__).resolve().parents[1]
PARTS = ("development", "second_real_set", "heldout_agora", "heldout_written")


PAIRED_RESAMPLES = 1000


def _macro(gold: list[str], pred: list[str], names: tuple[str, ...]) -> float:
    return float(f1_score(gold, pred, labels=list(names), average="macro", zero_division=0))


def _top(p: dict[str, float]) -> str:
    return max(p, key=lambda k: p[k])


def paired_gain(base: list[Item], new: list[Item], *, reps: int = PAIRED_RESAMPLES, seed: int = 0) -> dict:
    """Role and label macro-F1 of ``new`` minus ``base`` (the same sentences in the same order),
    with a 95% interval from resampling whole documents, the same ones for both."""
    assert [(it.source, it.role, it.label) for it in base] == [(it.source, it.role, it.label) for it in new]
    rows_of: dict[str, list[int]] = {}
    for i, it in enumerate(base):
        rows_of.setdefault(it.source, []).append(i)
    docs = sorted(rows_of)
    rng = np.random.default_rng(seed)
    picks = [[i for j in rng.integers(0, len(docs), len(docs)) for i in rows_of[docs[j]]]
             for _ in range(reps)]
    out: dict = {"sentences": len(base), "documents": len(docs)}
    for part, names in (("role", ROLES), ("label", LABELS)):
        if part == "role":
            gold = [it.role for it in base]
            a, b = [_top(it.role_probs) for it in base], [_top(it.role_probs) for it in new]
        else:
            gold = [it.label for it in base]
            a = [_top(VARIANTS["composed"](it)) for it in base]
            b = [_top(VARIANTS["composed"](it)) for it in new]
        gains = [_macro([gold[i] for i in ks], [b[i] for i in ks], names)
                 - _macro([gold[i] for i in ks], [a[i] for i in ks], names) for ks in picks]
        out[part] = {"linear": round(_macro(gold, a, names), 4), "encoder": round(_macro(gold, b, names), 4),
                     "gain": round(_macro(gold, b, names) - _macro(gold, a, names), 4),
                     "gain_ci95": [round(float(np.percentile(gains, q)), 4) for q in (2.5, 97.5)],
                     "changed": sum(x != y for x, y in zip(a, b, strict=True)),
                     "per_class": {}}
        for name, pred in (("linear", a), ("encoder", b)):
            pr, rc, f1, _ = precision_recall_fscore_support(gold, pred, labels=list(names), zero_division=0)
            out[part]["per_class"][name] = {c: [round(float(pr[k]), 2), round(float(rc[k]), 2),
                                                round(float(f1[k]), 2)] for k, c in enumerate(names)}
    return out


def _print(name: str, report: dict) -> None:
    label, role, scope = report["label"], report["role"], report["scope"]
    print(f"\n## {name}: {label['n']} sentences, {scope['documents']} documents")
    print(
        f"label macro-F1 {label['macro_f1']:.3f} {label['ci95']}   role macro-F1 {role['macro_f1']:.3f} "
        f"{role['ci95']}   scope accuracy {scope['accuracy']:.3f}"
    )
    for cls, m in label["per_class"].items():
        print(f"  {cls:16s} P {m['precision']:.2f} R {m['recall']:.2f} F1 {m['f1']:.2f} (n {m['support']})")
    print("  confusion (rows gold):", json.dumps(label["confusion"]))
    print("  ablation:", ", ".join(f"{k} {v['macro_f1']:.3f}" for k, v in report["ablation"].items()))
    print("  by confidence:", json.dumps(report["by_confidence"]))
    if scope["wrong"]:
        print("  scope misses:", json.dumps(scope["wrong"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--model", type=Path, default=default_model_dir())
    parser.add_argument("--json", type=Path, default=None, help="also write the full reports here")
    parser.add_argument("--role-model", choices=("linear", "encoder"), default="linear")
    parser.add_argument("--encoder", type=Path, default=None, help="role encoder folder (default: bundled)")
    parser.add_argument("--paired", action="store_true",
                        help="with --role-model encoder: also the default role, and the paired gain")
    parser.add_argument("--against", type=Path, default=None,
                        help="held-out parts: also score this model folder, and the paired gain over it")
    parser.add_argument("--part", action="append", choices=PARTS, default=None,
                        help="what to score (repeatable; default: development and second_real_set)")
    args = parser.parse_args()
    parts = args.part or ["development", "second_real_set"]
    encoder, settings = None, None
    if args.role_model == "encoder":
        from policylens.nlp.encoder import RoleEncoder
        from policylens.nlp.role_encoder import EncoderSettings, default_encoder_dir

        folder = args.encoder or default_encoder_dir()
        encoder, settings = RoleEncoder.load(folder), EncoderSettings.load(folder)
    models = Models(GovernanceModel.load(args.model), RoleModel.load(args.model), ScopeModel.load(args.model),
                    encoder=encoder, settings=settings)
    nlp = build_pipeline(classifier=False)
    labeled = args.shared / "labeled"
    reports = {}
    if "development" in parts:
        reports["development"] = score_items(
            dev_items(
                labeled / "dev_sentences.jsonl",
                labeled / "dev_document_scopes.json",
                args.shared,
                models,
                nlp,
            )
        )
    if "second_real_set" in parts:
        items, info = standoff_items(ROOT / "corpora" / "annotations" / "eval" / "real", args.shared,
                                     models, nlp)
        reports["second_real_set"] = score_items(items) | {"unmatched": info["unmatched"]}
    held_parts = {"heldout_agora": (ROOT / "corpora" / "annotations" / "agora", args.shared),
                  "heldout_written": (written_documents_dir(), written_documents_dir())}
    linear = replace(models, encoder=None, settings=None)
    if args.against is not None:
        linear = Models(GovernanceModel.load(args.against), RoleModel.load(args.against),
                        ScopeModel.load(args.against))
    paired = {}
    for part, (folder, documents) in held_parts.items():
        if part not in parts:
            continue
        items, info = standoff_items(folder, documents, models, nlp, labels_file="sentences.jsonl",
                                     keep=heldout_document)
        reports[part] = score_items(items) | {"unmatched": info["unmatched"]}
        if (args.paired and encoder is not None) or args.against is not None:
            base, _ = standoff_items(folder, documents, linear, nlp, labels_file="sentences.jsonl",
                                     keep=heldout_document)
            paired[part] = paired_gain(base, items)
    for name, report in reports.items():
        _print(name, report)
    for name, gain in paired.items():
        what_vs = (f"{args.model} against {args.against}" if args.against is not None
                   else "encoder mode against the default role")
        print(f"\n## {name}, {what_vs}: {gain['sentences']} sentences, "
              f"{gain['documents']} documents")
        for what in ("role", "label"):
            g = gain[what]
            print(f"  {what} macro-F1 {g['linear']:.4f} -> {g['encoder']:.4f}, gain {g['gain']:+.4f} "
                  f"{g['gain_ci95']} ({g['changed']} sentences changed)")
            for model, per in g["per_class"].items():
                cells = "  ".join(f"{c} {v[0]:.2f}/{v[1]:.2f}/{v[2]:.2f}" for c, v in per.items())
                print(f"    {model:8s} {cells}")
        reports[name]["paired_with_default"] = gain
    if args.json is not None:
        args.json.write_text(json.dumps(reports, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
