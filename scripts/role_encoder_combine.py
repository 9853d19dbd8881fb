"""Choose how the role encoder is used with the linear role model, on held-out AGORA documents only.

Usage (the project's venv)::

    python scripts/role_encoder_combine.py /tmp/role_encoder_run 4 [--data /tmp/role_inputs.jsonl]
    python scripts/role_encoder_combine.py /tmp/role_encoder_run 4 --numpy models/role_encoder

Reads the held-out probabilities of one epoch of ``train_role_encoder.py`` (or
``--numpy FOLDER``: the stored fp16 weights run by policylens' numpy forward pass,
which needs the ``policylens[encoder]`` extra) and the linear model's (``role_encoder_data.py``),
and prints, on the held-out AGORA sentences, role macro-F1 (per class too) and the
label macro-F1 composed by the codebook's procedure (the content and scope models'
probabilities from the export; the scope read from the linear roles, as tagging
does) for: linear alone, and ``weight * encoder + (1 - weight) * linear`` applied
only where the linear model's best role is below ``gate`` (1.0: everywhere). The
setting chosen on one half of the documents is scored on the other (both ways),
so its figure is not scored on the sentences that chose it; the paired bootstrap
interval over documents of the chosen setting's gain is printed too.

``--confirm FOLDER`` instead scores an encoder folder as shipped (its ``encoder.json``
weight and gate, the numpy forward pass on the unsure sentences only) on every
held-out AGORA sentence of ``--data``, split into those the run chose its settings
on (the ids in its ``log.json``) and those labelled since (never looked at when
choosing).
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score, precision_recall_fscore_support

from policylens.labels import LABELS, ROLES
from policylens.nlp.procedure import compose

WEIGHTS = (0.5, 0.75, 1.0)
GATES = (0.6, 0.7, 0.8, 0.9, 1.0)
BOOTSTRAP = 1000


def _heldout_agora(row: dict) -> bool:
    """A sentence of a held-out AGORA document (not a written one: the harness scores those)."""
    return row["split"] == "heldout" and row.get("set", "agora") == "agora" and bool(row["source"])


def macro(y: np.ndarray, pred: np.ndarray, k: int = 3) -> float:
    return float(f1_score(y, pred, average="macro", labels=list(range(k)), zero_division=0))


def use(enc: np.ndarray, lin: np.ndarray, w: float, gate: float) -> np.ndarray:
    """The role probabilities of the mix: ``w * encoder + (1 - w) * linear`` where the linear
    model's top role is below ``gate`` (1.0: everywhere), the linear ones elsewhere."""
    unsure = (lin.max(1) < gate) | (gate >= 1.0)
    out = lin.copy()
    out[unsure] = w * enc[unsure] + (1 - w) * lin[unsure]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("epoch", type=int)
    parser.add_argument("--data", type=Path, default=Path("/tmp/role_inputs.jsonl"))
    parser.add_argument("--numpy", type=Path, default=None,
                        help="score this encoder folder's numpy forward pass instead of torch's output")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument("--reps", type=int, default=BOOTSTRAP, help="bootstrap resamples")
    parser.add_argument("--confirm", type=Path, default=None, help="an encoder folder to confirm")
    parser.add_argument("--run-data", type=Path, default=Path("/tmp/role_inputs.jsonl"),
                        help="the data the run was trained and chosen on (its held-out rows' order)")
    args = parser.parse_args()
    if args.confirm is not None:
        confirm(args)
        return
    rows = {}
    for line in args.data.read_text(encoding="utf-8").split("\n"):
        if line.strip():
            row = json.loads(line)
            rows[row["id"]] = row
    log = args.run / "log.json"  # written at the end of a run; before, the held-out rows of its data file
    ids = (json.loads(log.read_text())["ids"] if log.is_file()
           else [r["id"] for line in args.run_data.read_text(encoding="utf-8").split("\n") if line.strip()
                 for r in [json.loads(line)] if _heldout_agora(r)])
    enc = np.load(args.run / f"heldout_probs_epoch{args.epoch}.npy")
    if args.numpy is not None:
        from policylens.nlp.encoder import RoleEncoder

        torch_probs = enc
        enc = RoleEncoder.load(args.numpy).predict([(rows[i]["section"], rows[i]["prev"], rows[i]["text"])
                                                    for i in ids])
        gold_roles = np.asarray([ROLES.index(rows[i]["role"]) for i in ids])
        print(f"numpy ({args.numpy}) against torch's fp32 output: largest difference "
              f"{np.abs(enc - torch_probs).max():.4f}, argmax differs on "
              f"{(enc.argmax(1) != torch_probs.argmax(1)).sum()} sentences; role macro-F1 torch "
              f"{macro(gold_roles, torch_probs.argmax(1)):.4f}, numpy {macro(gold_roles, enc.argmax(1)):.4f}")
    lin = np.asarray([rows[i]["linear"] for i in ids])
    y = np.asarray([ROLES.index(rows[i]["role"]) for i in ids])
    gold = np.asarray([LABELS.index(rows[i]["label"]) for i in ids])
    sources = [rows[i]["source"] for i in ids]
    half = np.asarray([int(hashlib.sha256(s.encode()).hexdigest()[:8], 16) % 2 for s in sources])

    def labels(roles: np.ndarray) -> np.ndarray:
        out = []
        for k, i in enumerate(ids):
            probs = compose(dict(zip(ROLES, roles[k].tolist(), strict=True)), rows[i]["scope_probs"],
                            rows[i]["content"])
            out.append(LABELS.index(max(probs, key=probs.__getitem__)))
        return np.asarray(out)

    def figures(roles: np.ndarray, name: str) -> dict:
        p, r, f, _ = precision_recall_fscore_support(y, roles.argmax(1), labels=[0, 1, 2], zero_division=0)
        lab = labels(roles)
        lp, lr, lf, _ = precision_recall_fscore_support(gold, lab, labels=[0, 1, 2], zero_division=0)
        out = {"name": name, "role_macro_f1": round(macro(y, roles.argmax(1)), 4),
               "role": {c: [round(float(p[k]), 3), round(float(r[k]), 3), round(float(f[k]), 3)]
                        for k, c in enumerate(ROLES)},
               "label_macro_f1": round(macro(gold, lab), 4),
               "label": {c: [round(float(lp[k]), 3), round(float(lr[k]), 3), round(float(lf[k]), 3)]
                         for k, c in enumerate(LABELS)}}
        print(f"{name:32s} role {out['role_macro_f1']:.4f} "
              + " ".join(f"{c[:4]} {v[0]:.2f}/{v[1]:.2f}/{v[2]:.2f}" for c, v in out["role"].items())
              + f" | label {out['label_macro_f1']:.4f} "
              + " ".join(f"{c[:4]} {v[2]:.2f}" for c, v in out["label"].items()))
        return out

    print(f"{len(ids)} held-out sentences, {len(set(sources))} documents")
    report: dict = {"epoch": args.epoch, "n": len(ids), "documents": len(set(sources)), "rows": []}
    lin_labels = labels(lin)
    report["rows"].append(figures(lin, "linear"))
    settings = [(w, g) for w in WEIGHTS for g in GATES]
    table = {}
    for w, g in settings:
        roles = use(enc, lin, w, g)
        share = float(((lin.max(1) < g) | (g >= 1.0)).mean())
        row = figures(roles, f"w {w} gate {g} (encoder on {share:.0%})")
        row |= {"weight": w, "gate": g, "encoder_share": round(share, 3)}
        report["rows"].append(row)
        table[(w, g)] = roles
    # the setting chosen on one half of the documents, scored on the other (role macro-F1 decides)
    crossed = lin.copy()
    chosen = []
    for h in (0, 1):
        fit, score = half != h, half == h
        best = max(settings, key=lambda s: macro(y[fit], table[s][fit].argmax(1)))
        chosen.append(best)
        crossed[score] = table[best][score]
    report["cross_half"] = figures(crossed, f"chosen on the other half {chosen}") | {"chosen": chosen}
    # paired bootstrap over documents of every setting's gain over linear
    rng = np.random.default_rng(0)
    by_doc: dict[str, list[int]] = {}
    for k, s in enumerate(sources):
        by_doc.setdefault(s, []).append(k)
    docs = list(by_doc)
    picks = [np.asarray([k for d in rng.integers(0, len(docs), len(docs)) for k in by_doc[docs[d]]])
             for _ in range(args.reps)]
    lin_pred = lin.argmax(1)
    report["gains"] = {}
    for (w, g), roles in [*table.items(), (("cross", "half"), crossed)]:
        pred, lab = roles.argmax(1), labels(roles)
        role_gain = [macro(y[i], pred[i]) - macro(y[i], lin_pred[i]) for i in picks]
        label_gain = [macro(gold[i], lab[i]) - macro(gold[i], lin_labels[i]) for i in picks]
        entry = {"role_gain": round(macro(y, pred) - macro(y, lin_pred), 4),
                 "role_ci95": [round(float(np.percentile(role_gain, q)), 4) for q in (2.5, 97.5)],
                 "label_gain": round(macro(gold, lab) - macro(gold, lin_labels), 4),
                 "label_ci95": [round(float(np.percentile(label_gain, q)), 4) for q in (2.5, 97.5)]}
        report["gains"][f"w {w} gate {g}"] = entry
        print(f"gain w {w} gate {g}: role {entry['role_gain']:+.4f} {entry['role_ci95']}  "
              f"label {entry['label_gain']:+.4f} {entry['label_ci95']}")
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


def confirm(args: argparse.Namespace) -> None:
    """``--confirm``: the shipped settings on the selection sentences and on the new ones."""
    from policylens.nlp.encoder import RoleEncoder
    from policylens.nlp.role_encoder import EncoderSettings

    rows = [json.loads(line) for line in args.data.read_text(encoding="utf-8").split("\n") if line.strip()]
    rows = [r for r in rows if _heldout_agora(r)]
    log = args.run / "log.json"  # written at the end of a run; before, the run's data file's held-out rows
    chosen_on = (set(json.loads(log.read_text())["ids"]) if log.is_file() else
                 {r["id"] for line in args.run_data.read_text(encoding="utf-8").split("\n") if line.strip()
                  for r in [json.loads(line)] if _heldout_agora(r)})
    settings = EncoderSettings.load(args.confirm)
    lin = np.asarray([r["linear"] for r in rows])
    unsure = (lin.max(1) < settings.gate) | (settings.gate >= 1.0)
    enc = lin.copy()
    picked = [r for r, u in zip(rows, unsure, strict=True) if u]
    encoder = RoleEncoder.load(args.confirm)
    enc[unsure] = encoder.predict([(r["section"], r["prev"], r["text"]) for r in picked])
    mode = use(enc, lin, settings.weight, settings.gate)
    y = np.asarray([ROLES.index(r["role"]) for r in rows])
    gold = np.asarray([LABELS.index(r["label"]) for r in rows])

    def labels(roles: np.ndarray) -> np.ndarray:
        out = []
        for k, r in enumerate(rows):
            probs = compose(dict(zip(ROLES, roles[k].tolist(), strict=True)), r["scope_probs"], r["content"])
            out.append(LABELS.index(max(probs, key=probs.__getitem__)))
        return np.asarray(out)

    lab_lin, lab_mode = labels(lin), labels(mode)
    report = {"weight": settings.weight, "gate": settings.gate,
              "encoder_share": round(float(unsure.mean()), 3)}
    print(f"weight {settings.weight} gate {settings.gate}: the encoder reads {unsure.mean():.0%} "
          f"of {len(rows)} held-out sentences")
    rng = np.random.default_rng(0)
    for part, keep in (("selection", [r["id"] in chosen_on for r in rows]),
                       ("new", [r["id"] not in chosen_on for r in rows]), ("all", [True] * len(rows))):
        idx = np.flatnonzero(keep)
        by_doc: dict[str, list[int]] = {}
        for k in idx:
            by_doc.setdefault(rows[k]["source"], []).append(int(k))
        docs = list(by_doc)
        picks = [np.asarray([k for d in rng.integers(0, len(docs), len(docs)) for k in by_doc[docs[d]]])
                 for _ in range(args.reps)]
        entry: dict = {"sentences": len(idx), "documents": len(docs)}
        for name, g, a, b in (("role", y, lin.argmax(1), mode.argmax(1)), ("label", gold, lab_lin, lab_mode)):
            pa = precision_recall_fscore_support(g[idx], a[idx], labels=[0, 1, 2], zero_division=0)
            pb = precision_recall_fscore_support(g[idx], b[idx], labels=[0, 1, 2], zero_division=0)
            gains = [macro(g[i], b[i]) - macro(g[i], a[i]) for i in picks]
            names = ROLES if name == "role" else LABELS
            entry[name] = {"linear": round(macro(g[idx], a[idx]), 4), "encoder": round(macro(g[idx], b[idx]), 4),
                           "gain_ci95": [round(float(np.percentile(gains, q)), 4) for q in (2.5, 97.5)],
                           "per_class_linear": {c: [round(float(pa[j][k]), 2) for j in range(3)]
                                                for k, c in enumerate(names)},
                           "per_class_encoder": {c: [round(float(pb[j][k]), 2) for j in range(3)]
                                                 for k, c in enumerate(names)}}
            e = entry[name]
            print(f"{part:9s} ({len(idx)} sentences, {len(docs)} documents) {name}: linear {e['linear']:.4f} "
                  f"encoder {e['encoder']:.4f} gain {e['encoder'] - e['linear']:+.4f} {e['gain_ci95']}")
            for c in names:
                print(f"    {c:16s} linear P/R/F1 {e['per_class_linear'][c]}  encoder {e['per_class_encoder'][c]}")
        report[part] = entry
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
