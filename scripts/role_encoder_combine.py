"""Choose how the role encoder is mixed with the linear role model, on held-out AGORA documents only.

Usage (any venv with numpy and scikit-learn)::

    python scripts/role_encoder_combine.py /tmp/role_encoder_run 2 [--data /tmp/role_inputs.jsonl]

Reads the held-out probabilities of one epoch of ``train_role_encoder.py`` and the
linear model's (``role_encoder_data.py``) and prints role macro-F1 on the held-out
AGORA sentences: linear alone, encoder alone, their mean, and the mixing weight
``w`` (``w * encoder + (1 - w) * linear``) and a logistic stacker chosen on one half
of the held-out documents and scored on the other (both ways), so the figure for the
chosen mix is not scored on the sentences that chose it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score

ROLES = ("architecture", "provision", "other")
WEIGHTS = np.round(np.linspace(0.0, 1.0, 21), 2)


def macro(y: np.ndarray, p: np.ndarray) -> float:
    return float(f1_score(y, p.argmax(1), average="macro", labels=[0, 1, 2], zero_division=0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("epoch", type=int)
    parser.add_argument("--data", type=Path, default=Path("/tmp/role_inputs.jsonl"))
    args = parser.parse_args()
    rows = {}
    for line in args.data.read_text(encoding="utf-8").split("\n"):
        if line.strip():
            row = json.loads(line)
            rows[row["id"]] = row
    log = args.run / "log.json"  # written at the end of a run; before, the data file's order
    ids = (json.loads(log.read_text())["ids"] if log.is_file()
           else [i for i, r in rows.items() if r["split"] == "heldout" and r["source"]])
    enc = np.load(args.run / f"heldout_probs_epoch{args.epoch}.npy")
    lin = np.asarray([rows[i]["linear"] for i in ids])
    y = np.asarray([ROLES.index(rows[i]["role"]) for i in ids])
    half = np.asarray([int(hashlib.sha256(rows[i]["source"].encode()).hexdigest()[:8], 16) % 2 for i in ids])
    print(f"{len(ids)} held-out sentences, {len({rows[i]['source'] for i in ids})} documents")
    print(f"linear {macro(y, lin):.4f}   encoder {macro(y, enc):.4f}   mean {macro(y, (enc + lin) / 2):.4f}")
    mixed, stacked, chosen = np.zeros_like(enc), np.zeros_like(enc), []
    x = np.hstack([np.log(enc + 1e-9), np.log(lin + 1e-9)])
    for h in (0, 1):
        fit, score = half != h, half == h
        w = max(WEIGHTS, key=lambda w: macro(y[fit], w * enc[fit] + (1 - w) * lin[fit]))
        chosen.append(float(w))
        mixed[score] = w * enc[score] + (1 - w) * lin[score]
        clf = LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000).fit(x[fit], y[fit])
        stacked[score] = clf.predict_proba(x[score])
    print(f"mix, weight chosen on the other half {chosen}: {macro(y, mixed):.4f}   "
          f"stacker (other half): {macro(y, stacked):.4f}")
    best = max(WEIGHTS, key=lambda w: macro(y, w * enc + (1 - w) * lin))
    print(f"weight chosen on all held-out documents: {best} ({macro(y, best * enc + (1 - best) * lin):.4f}); "
          + ", ".join(f"w={w}: {macro(y, w * enc + (1 - w) * lin):.4f}" for w in (0.25, 0.5, 0.75)))


if __name__ == "__main__":
    main()
