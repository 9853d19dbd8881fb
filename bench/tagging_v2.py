"""Codebook v2.0 figures of the shipped tagger on the two real evaluation sets.

Usage::

    python bench/tagging_v2.py [--shared ../shared/corpus] [--model models/governance] [--json OUT]
    python bench/tagging_v2.py --part heldout_agora   # held-out AGORA documents (not an evaluation set)
    python bench/tagging_v2.py --part heldout_written # held-out written documents (not one either)
    python bench/tagging_v2.py --role-model encoder   # the encoder role mode (docs/tagging.md)

Scores the development set (``labeled/dev_sentences.jsonl``, each sentence found
in its document for its context) and the stand-off set in
``corpora/annotations/eval/real``: label, role and scope, per class, with
bootstrap 95% intervals over documents, confusion matrices and the ablation
(true scope, true role, both, the flat content model). Neither set is ever
trained on; nothing here fits anything. ``--part heldout_agora`` scores instead the
held-out 20% of the free AGORA documents (``labelled.heldout_document``), which the
models were not trained on and on which their settings may be chosen; ``--part
heldout_written`` the held-out documents among the project's written ones
(``corpora/annotations/documents``), chosen the same way.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from policylens.nlp.evaluate_parts import Models, dev_items, score_items, standoff_items
from policylens.nlp.labelled import heldout_document, written_documents_dir
from policylens.nlp.model import GovernanceModel, default_model_dir
from policylens.nlp.pipeline import build_pipeline
from policylens.nlp.role import RoleModel
from policylens.nlp.scope import ScopeModel

ROOT = Path(__file__).resolve().parents[1]
PARTS = ("development", "second_real_set", "heldout_agora", "heldout_written")


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
    if "heldout_agora" in parts:
        items, info = standoff_items(ROOT / "corpora" / "annotations" / "agora", args.shared, models, nlp,
                                     labels_file="sentences.jsonl", keep=heldout_document)
        reports["heldout_agora"] = score_items(items) | {"unmatched": info["unmatched"]}
    if "heldout_written" in parts:
        folder = written_documents_dir()
        items, info = standoff_items(folder, folder, models, nlp, labels_file="sentences.jsonl",
                                     keep=heldout_document)
        reports["heldout_written"] = score_items(items) | {"unmatched": info["unmatched"]}
    for name, report in reports.items():
        _print(name, report)
    if args.json is not None:
        args.json.write_text(json.dumps(reports, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
