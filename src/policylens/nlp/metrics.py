"""Classification metrics and inter-annotator agreement, in plain Python.

>>> r = classification_report(["neutral", "centralized"], ["neutral", "neutral"])
>>> r["per_class"]["neutral"]["precision"], r["per_class"]["centralized"]["recall"]
(0.5, 0.0)
>>> round(cohen_kappa(["a", "b", "a", "b"], ["a", "b", "a", "a"]), 3)
0.5
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from policylens.labels import LABELS


def _safe_div(a: float, b: float) -> float:
    return a / b if b else 0.0


def classification_report(gold: Sequence[str], pred: Sequence[str],
                          labels: Sequence[str] = LABELS) -> dict[str, Any]:
    """Per-class precision/recall/F1/support, macro-F1, accuracy and the confusion matrix.

    ``confusion[gold][pred]`` counts sentences of true label ``gold`` predicted as ``pred``.
    """
    if len(gold) != len(pred):
        raise ValueError("gold and pred differ in length")
    confusion = {g: {p: 0 for p in labels} for g in labels}
    for g, p in zip(gold, pred, strict=True):
        confusion[g][p] += 1
    per_class: dict[str, dict[str, float]] = {}
    for label in labels:
        tp = confusion[label][label]
        predicted = sum(confusion[g][label] for g in labels)
        support = sum(confusion[label].values())
        precision = _safe_div(tp, predicted)
        recall = _safe_div(tp, support)
        f1 = _safe_div(2 * precision * recall, precision + recall)
        per_class[label] = {"precision": round(precision, 4), "recall": round(recall, 4),
                            "f1": round(f1, 4), "support": support}
    present = [label for label in labels if per_class[label]["support"] or
               sum(confusion[g][label] for g in labels)]
    macro = _safe_div(sum(per_class[label]["f1"] for label in present), len(present))
    correct = sum(confusion[label][label] for label in labels)
    return {"macro_f1": round(macro, 4), "accuracy": round(_safe_div(correct, len(gold)), 4),
            "n": len(gold), "per_class": per_class, "confusion": confusion}


def cohen_kappa(a: Sequence[str], b: Sequence[str]) -> float:
    """Cohen's kappa of two label sequences over the same items."""
    if len(a) != len(b):
        raise ValueError("label sequences differ in length")
    n = len(a)
    if n == 0:
        return 0.0
    observed = sum(x == y for x, y in zip(a, b, strict=True)) / n
    ca, cb = Counter(a), Counter(b)
    expected = sum(ca[k] * cb[k] for k in set(ca) | set(cb)) / (n * n)
    if expected == 1.0:
        return 1.0
    return (observed - expected) / (1 - expected)


def agreement(a: Sequence[str], b: Sequence[str], labels: Sequence[str] = LABELS) -> dict[str, Any]:
    """Kappa, percent agreement and per-class (positive specific) agreement."""
    n = len(a)
    per_class: dict[str, dict[str, float]] = {}
    for label in labels:
        both = sum(x == label and y == label for x, y in zip(a, b, strict=True))
        in_a = sum(x == label for x in a)
        in_b = sum(y == label for y in b)
        per_class[label] = {"agreement": round(_safe_div(2 * both, in_a + in_b), 4), "a": in_a, "b": in_b}
    return {
        "n": n,
        "kappa": round(cohen_kappa(a, b), 4),
        "percent_agreement": round(_safe_div(sum(x == y for x, y in zip(a, b, strict=True)), n) * 100, 2),
        "per_class": per_class,
    }
