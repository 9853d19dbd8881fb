"""The evaluation reports, computed by ``sklearn.metrics``: one macro-F1 definition everywhere."""

from __future__ import annotations

import pytest
from sklearn.metrics import f1_score

from policylens.labels import LABELS
from policylens.nlp.metrics import agreement, classification_report, cohen_kappa

C, S, N = "centralized", "sector_specific", "neutral"


def test_macro_f1_counts_an_absent_class_as_zero_like_every_other_report() -> None:
    # regression: the report averaged over the classes present (1.0 here) while the role and
    # scope evaluations and the model cards average over the fixed label set (0.6667)
    gold = [C, N, N, C]
    pred = [C, N, N, C]
    report = classification_report(gold, pred)
    # what nlp/evaluate_parts.py and the model cards compute
    assert report["macro_f1"] == round(f1_score(gold, pred, labels=list(LABELS), average="macro",
                                                zero_division=0), 4) == 0.6667
    assert report["per_class"][S] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}


def test_report_numbers_by_hand() -> None:
    gold = [C, C, C, S, S, N, N, N, N, N]
    pred = [C, C, S, S, N, N, N, N, C, N]
    report = classification_report(gold, pred)
    # centralized: tp 2, predicted 3, support 3; sector: tp 1, predicted 2, support 2; neutral: tp 4 / 5 / 5
    assert report["per_class"][C] == {"precision": 0.6667, "recall": 0.6667, "f1": 0.6667, "support": 3}
    assert report["per_class"][S] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    assert report["per_class"][N] == {"precision": 0.8, "recall": 0.8, "f1": 0.8, "support": 5}
    assert report["macro_f1"] == round((2 / 3 + 0.5 + 0.8) / 3, 4)
    assert report["accuracy"] == 0.7 and report["n"] == 10
    assert report["confusion"][C] == {C: 2, S: 1, N: 0}
    assert report["confusion"][N] == {C: 1, S: 0, N: 4}


def test_kappa_and_agreement() -> None:
    a = [C, C, S, S, N, N, N, N]
    b = [C, S, S, S, N, N, C, N]
    # observed 6/8; expected (2*2 + 2*3 + 4*3) / 64 = 22/64
    assert cohen_kappa(a, b) == pytest.approx((6 / 8 - 22 / 64) / (1 - 22 / 64))
    result = agreement(a, b)
    assert result["percent_agreement"] == 75.0 and result["n"] == 8
    assert result["per_class"][S] == {"agreement": 0.8, "a": 2, "b": 3}  # 2 * 2 / (2 + 3)
    assert cohen_kappa([N, N], [N, N]) == 1.0  # one label only: chance agreement is certain
    assert cohen_kappa([], []) == 0.0


def test_bad_inputs_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        classification_report([C], [C, N])
    with pytest.raises(ValueError, match="unknown label"):
        classification_report(["centralised"], [C])
    assert classification_report([], [])["macro_f1"] == 0.0
