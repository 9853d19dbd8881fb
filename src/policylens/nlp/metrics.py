"""Classification metrics and inter-annotator agreement, computed by ``sklearn.metrics``.

This module only shapes scikit-learn's numbers into the reports that ``evaluate``,
``agree`` and the model cards print. Macro-F1 is taken over the fixed label set
with ``zero_division=0`` (a label absent from both sides scores 0), the one
definition every policylens report uses.

>>> r = classification_report(["neutral", "centralized"], ["neutral", "neutral"])
>>> r["per_class"]["neutral"]["precision"], r["per_class"]["centralized"]["recall"]
(0.5, 0.0)
>>> round(cohen_kappa(["a", "b", "a", "b"], ["a", "b", "a", "a"]), 3)
0.5
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from policylens.labels import LABELS


def _check(gold: Sequence[str], pred: Sequence[str], labels: Sequence[str], what: str) -> None:
    if len(gold) != len(pred):
        raise ValueError(f"{what} differ in length")
    unknown = sorted((set(gold) | set(pred)) - set(labels))
    if unknown:
        raise ValueError(f"unknown label(s) {', '.join(map(repr, unknown))}: use {', '.join(labels)}")


def classification_report(gold: Sequence[str], pred: Sequence[str],
                          labels: Sequence[str] = LABELS) -> dict[str, Any]:
    """Per-class precision/recall/F1/support, macro-F1, accuracy and the confusion matrix.

    ``confusion[gold][pred]`` counts sentences of true label ``gold`` predicted as ``pred``.
    """
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

    _check(gold, pred, labels, "gold and pred")
    names = list(labels)
    if not gold:
        zero = {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
        return {"macro_f1": 0.0, "accuracy": 0.0, "n": 0, "per_class": {k: dict(zero) for k in names},
                "confusion": {g: {p: 0 for p in names} for g in names}}
    precision, recall, f1, support = precision_recall_fscore_support(gold, pred, labels=names,
                                                                     zero_division=0)
    matrix = confusion_matrix(gold, pred, labels=names)
    return {
        "macro_f1": round(float(f1_score(gold, pred, labels=names, average="macro", zero_division=0)), 4),
        "accuracy": round(float(accuracy_score(gold, pred)), 4),
        "n": len(gold),
        "per_class": {label: {"precision": round(float(precision[i]), 4),
                              "recall": round(float(recall[i]), 4),
                              "f1": round(float(f1[i]), 4), "support": int(support[i])}
                      for i, label in enumerate(names)},
        "confusion": {g: {p: int(matrix[i, j]) for j, p in enumerate(names)} for i, g in enumerate(names)},
    }


def cohen_kappa(a: Sequence[str], b: Sequence[str]) -> float:
    """Cohen's kappa of two label sequences over the same items (1.0 when both use one label only)."""
    from sklearn.metrics import cohen_kappa_score

    if len(a) != len(b):
        raise ValueError("label sequences differ in length")
    if not a:
        return 0.0
    if len(set(a) | set(b)) == 1:  # chance agreement is certain: kappa is 0/0, and they agree fully
        return 1.0
    kappa = float(cohen_kappa_score(list(a), list(b)))
    return 0.0 if math.isnan(kappa) else kappa


def agreement(a: Sequence[str], b: Sequence[str], labels: Sequence[str] = LABELS) -> dict[str, Any]:
    """Kappa, percent agreement and per-class (positive specific) agreement.

    Positive specific agreement on a label is the F1 of one annotator against the other.
    """
    from sklearn.metrics import accuracy_score, precision_recall_fscore_support

    _check(a, b, labels, "label sequences")
    names = list(labels)
    if a:
        _, _, f1, _ = precision_recall_fscore_support(a, b, labels=names, zero_division=0)
    else:
        f1 = [0.0] * len(names)
    return {
        "n": len(a),
        "kappa": round(cohen_kappa(a, b), 4),
        "percent_agreement": round(float(accuracy_score(a, b)) * 100, 2) if a else 0.0,
        "per_class": {label: {"agreement": round(float(f1[i]), 4), "a": sum(x == label for x in a),
                              "b": sum(y == label for y in b)} for i, label in enumerate(names)},
    }
