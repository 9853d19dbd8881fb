"""Fitting a ``LinearModel`` from named feature rows (the role and scope models).

A multinomial logistic regression whose ``C`` is chosen by stratified k-fold
cross-validation on the training rows (best out-of-fold macro-F1; folds keep each
document's rows together when ``groups`` are given, since sentences of one document share
its wording and a split inside a document flatters the score), with a
softmax temperature fitted on the out-of-fold scores (calibration). Learned
weights become plain JSON through the ``LinearModel`` they fill. Nothing here
sees evaluation data: callers pass training rows only.

``SoftRows`` are extra rows with a distribution over the labels instead of one label
(a teacher's probabilities, for distillation): each becomes one row per label whose
probability reaches ``min_prob``, weighted ``weight * p``. They join the training part
of every fold (unless their group is in the fold's test part) and the final fit, and are
never scored: ``C`` and the temperature are chosen on the labelled rows alone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

from policylens.errors import DataError
from policylens.nlp.features import build_vocabulary, to_matrix
from policylens.nlp.train import fit_temperature

C_GRID = (0.1, 0.3, 1.0, 3.0)


@dataclass(frozen=True)
class Fitted:
    """What ``fit_linear`` learned; ``oof`` are the out-of-fold probabilities of the training rows."""

    vocabulary: dict[str, int]
    coef: np.ndarray
    intercept: np.ndarray
    temperature: float
    train_prior: tuple[float, ...]
    c: float
    cv_macro_f1: float
    oof: np.ndarray

    def model_kwargs(self) -> dict[str, Any]:
        return {
            "vocabulary": self.vocabulary,
            "coef": self.coef,
            "intercept": self.intercept,
            "temperature": self.temperature,
            "train_prior": self.train_prior,
        }


@dataclass(frozen=True)
class SoftRows:
    """Rows with label probabilities (``probs``: one row of ``n_labels`` each) and their groups."""

    rows: Sequence[Mapping[str, float]]
    probs: np.ndarray
    groups: Sequence[str]
    weight: float = 1.0
    min_prob: float = 0.01

    def expanded(self, vocabulary: Mapping[str, int]) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray]:
        """``(x, y, sample weight, groups)``: one row per (row, label) with enough probability."""
        probs = np.asarray(self.probs, dtype=np.float64)
        if probs.ndim != 2 or len(probs) != len(self.rows) or len(self.groups) != len(self.rows):
            raise DataError(f"{len(self.rows)} soft rows with {probs.shape} probabilities "
                            f"and {len(self.groups)} groups")
        which, label = np.nonzero(probs >= self.min_prob)
        x = to_matrix(self.rows, vocabulary)[which]
        return x, label, self.weight * probs[which, label], np.asarray(self.groups, dtype=object)[which]


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return np.asarray(e / e.sum(axis=1, keepdims=True))


def fit_linear(
    rows: Sequence[Mapping[str, float]],
    y: Sequence[int],
    n_labels: int,
    *,
    seed: int = 0,
    min_df: int = 2,
    c_grid: Sequence[float] = C_GRID,
    folds: int = 5,
    sample_weight: np.ndarray | None = None,
    keep_prefixes: Sequence[str] = ("r:", "n:", "len:"),
    groups: Sequence[str] | None = None,
    soft: SoftRows | None = None,
) -> Fitted:
    """Fit on ``rows``/``y`` (and ``soft``, module docstring); ``C`` by cross-validated macro-F1 of
    the labelled rows, temperature on their out-of-fold scores."""
    labels = np.asarray(y)
    counts = Counter(labels.tolist())
    if len(counts) < n_labels:
        raise DataError(f"training data needs examples of all {n_labels} classes (got {dict(counts)})")
    vocabulary = build_vocabulary([*rows, *(soft.rows if soft is not None else ())], min_df=min_df,
                                  keep_prefixes=keep_prefixes)
    x = to_matrix(rows, vocabulary)
    weight = sample_weight if sample_weight is not None else np.ones(len(labels))
    if soft is not None:
        if groups is None:
            raise DataError("soft rows need the labelled rows' groups (their folds keep groups apart)")
        sx, sy, sw, sgroups = soft.expanded(vocabulary)
    else:
        sx, sy, sw, sgroups = None, np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0, dtype=object)

    def with_soft(idx: np.ndarray, test_idx: np.ndarray | None) -> tuple[Any, np.ndarray, np.ndarray]:
        """The training rows ``idx`` plus the soft rows outside the groups of ``test_idx``."""
        if sx is None:
            return x[idx], labels[idx], weight[idx]
        keep = np.ones(len(sy), dtype=bool)
        if test_idx is not None and groups is not None:
            keep = ~np.isin(sgroups, np.asarray(groups, dtype=object)[test_idx])
        return (sparse.vstack([x[idx], sx[keep]], format="csr"), np.concatenate([labels[idx], sy[keep]]),
                np.concatenate([weight[idx], sw[keep]]))
    n_folds = max(2, min(folds, min(counts.values())))
    if groups is not None:
        if len(groups) != len(labels):
            raise DataError(f"{len(groups)} groups for {len(labels)} training rows")
        n_folds = max(2, min(n_folds, len(set(groups))))
        splitter = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
        splits = list(splitter.split(x, labels, groups=list(groups)))
    else:
        splits = list(StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed).split(x, labels))
    best: tuple[float, float, np.ndarray] | None = None
    for c in c_grid:
        scores = np.zeros((len(labels), n_labels))
        for train_idx, test_idx in splits:
            fx, fy, fw = with_soft(train_idx, test_idx)
            clf = LogisticRegression(C=c, max_iter=3000, random_state=seed).fit(fx, fy, sample_weight=fw)
            scores[test_idx] = clf.decision_function(x[test_idx])
        f1 = float(
            f1_score(
                labels, scores.argmax(axis=1), average="macro", labels=list(range(n_labels)), zero_division=0
            )
        )
        if best is None or f1 > best[0] + 1e-9:
            best = (f1, c, scores)
    assert best is not None
    f1, c, scores = best
    temperature = fit_temperature(scores, labels)
    fx, fy, fw = with_soft(np.arange(len(labels)), None)
    clf = LogisticRegression(C=c, max_iter=3000, random_state=seed).fit(fx, fy, sample_weight=fw)
    prior = tuple(counts[k] / len(labels) for k in range(n_labels))
    return Fitted(
        vocabulary=vocabulary,
        coef=clf.coef_.astype(np.float64),
        intercept=clf.intercept_.astype(np.float64),
        temperature=temperature,
        train_prior=prior,
        c=c,
        cv_macro_f1=f1,
        oof=_softmax(scores / temperature),
    )
