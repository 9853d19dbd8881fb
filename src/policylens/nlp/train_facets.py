"""Training the document facet models on AGORA's tags (training documents only).

    policylens train --part facets --documents ../shared/corpus [--out models/facets]

What is used, from ``<documents>/agora/`` and ``<documents>/eval_documents.txt``:

* **never** the evaluation-only documents: they are dropped before anything
  else is read from them (not their text, not their tags);
* the training documents with human tags (AGORA's ``Annotated?``): their tags
  are the labels, their text the features;
* the training documents whose tags may be unreviewed machine output: their
  text joins the vocabulary and idf, and their tags (if any) count as weaker
  labels (sample weight ``UNREVIEWED_WEIGHT``);
* the project's hand labels of AGORA Applications
  (``corpora/annotations/agora/applications.jsonl``): for an unvalidated training
  document with human tags but no Applications tag, they stand in for the missing
  Applications (in the ``sector`` family and the ``agora`` family's Applications).

Each label is a logistic regression over the document's TF-IDF and the
label's mention features (``facet_features``). The families in ``STACKED``
(``sector``) are decided in two stages instead: each label's regression reads
the words only, and one regression shared by the family's labels (the
*combiner*) reads each label's mention features and its word logit, with an
intercept per label. The combiner is fitted on out-of-fold word logits (an
inner cross-validation), so it learns how far to trust the words. Out-of-fold predictions from a
``FOLDS``-fold cross-validation on the training documents fit each label's
Platt calibration and choose its threshold: the family's F1-best threshold,
moved toward the label's own F1-best one in proportion to its support
(``n / (n + SHRINK)``), so rare labels do not get a threshold fitted to two
examples. The final regression is fitted on all training documents.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import numpy as np
from scipy import sparse

from policylens.errors import DataError
from policylens.nlp.agora_labels import (
    AGORA_TO_INSTRUMENT,
    AgoraRecord,
    ApplicationLabel,
    default_application_labels,
    evaluation_only,
    family_labels,
    lacks_applications,
    matches_of,
    read_agora,
    read_application_labels,
    split_records,
    with_application_labels,
)
from policylens.nlp.facet_features import (
    MENTION_FEATURES,
    DocumentFeatures,
    Vocabulary,
    document_features,
    words,
)
from policylens.nlp.facet_model import COMBINER_FEATURES, Combiner, FamilyModel, LabelModel
from policylens.nlp.types import TaggedDocument

VOCABULARY_SIZE: Final = 3000
MIN_DF: Final = 5  # a word must occur in this many training documents
C: Final = 16.0  # inverse L2 strength of each label's regression
FOLDS: Final = 5
MIN_SUPPORT: Final = 5  # labels with fewer training documents are not modelled
SHRINK: Final = 20.0
UNREVIEWED_WEIGHT: Final = 0.3
THRESHOLDS: Final = tuple(round(0.05 * k, 2) for k in range(1, 20))
STACKED: Final = ("sector",)  # families decided by a combiner over mention features and word logits
WORD_C: Final = 4.0  # inverse L2 strength of a stacked family's word regressions
COMBINER_C: Final = 1.0  # inverse L2 strength of the combiner
INNER_FOLDS: Final = 3  # the cross-validation that gives the combiner its out-of-fold word logits


@dataclass(frozen=True)
class FamilyReport:
    """Cross-validated scores of one family on the training documents."""

    family: str
    n_documents: int
    labels: Mapping[str, Mapping[str, Any]]  # label -> support, threshold, OOF P/R/F1
    micro: Mapping[str, float]
    macro_f1: float
    validated: Mapping[str, float]  # micro P/R/F1 on the validated training documents only
    baseline: Mapping[str, Any] = field(default_factory=dict)  # the mention-count rule, same documents
    subsets: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # name -> n, micro, macro_f1

    def to_dict(self) -> dict[str, Any]:
        return {"family": self.family, "n_documents": self.n_documents, "micro": dict(self.micro),
                "macro_f1": self.macro_f1, "validated": dict(self.validated), "baseline": dict(self.baseline),
                "subsets": {k: dict(v) for k, v in self.subsets.items()},
                "labels": {k: dict(v) for k, v in self.labels.items()}}


@dataclass(frozen=True)
class Training:
    """What ``train_facets`` produced: the vocabulary, one model per family, and the card."""

    vocabulary: Vocabulary
    models: Mapping[str, FamilyModel]
    reports: Mapping[str, FamilyReport]
    card: dict[str, Any]


# --- vocabulary --------------------------------------------------------------------

def build_vocabulary(documents: Sequence[Sequence[str]], *, size: int = VOCABULARY_SIZE, min_df: int = MIN_DF,
                     stop_words: frozenset[str] = frozenset()) -> Vocabulary:
    """The ``size`` most frequent words found in at least ``min_df`` of ``documents`` (each a list of
    words), with smoothed idf ``ln((1 + N) / (1 + df)) + 1``."""
    df: dict[str, int] = {}
    total: dict[str, int] = {}
    for doc in documents:
        for word in doc:
            total[word] = total.get(word, 0) + 1
        for word in set(doc):
            df[word] = df.get(word, 0) + 1
    eligible = [w for w, n in df.items() if n >= min_df and w not in stop_words]
    chosen = sorted(sorted(eligible, key=lambda w: (-total[w], w))[:size])
    n = len(documents)
    idf = np.array([math.log((1 + n) / (1 + df[w])) + 1.0 for w in chosen])
    return Vocabulary(tuple(chosen), idf)


def _stop_words() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS)


# --- fitting -----------------------------------------------------------------------

def _sigmoid(z: np.ndarray) -> np.ndarray:
    out: np.ndarray = 1.0 / (1.0 + np.exp(-z))
    return out


def _folds(n: int, k: int, seed: int) -> list[np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    return [order[i::k] for i in range(k)]


def _regression(x: Any, y: np.ndarray, weight: np.ndarray) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=C, max_iter=5000).fit(x, y, sample_weight=weight)


def _platt(z: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """``(a, b)`` with ``sigmoid(a * z + b)`` calibrated on out-of-fold logits."""
    from sklearn.linear_model import LogisticRegression

    fit = LogisticRegression(C=1e4, max_iter=5000).fit(z.reshape(-1, 1), y)
    return float(fit.coef_[0, 0]), float(fit.intercept_[0])


@dataclass(frozen=True)
class _LabelFit:
    model: LabelModel
    rows: np.ndarray  # indices (into the family's documents) the label was trained and scored on
    oof: np.ndarray  # calibrated out-of-fold probabilities of those rows
    gold: np.ndarray


def _fit_label(name: str, matches: tuple[str, ...], words_x: np.ndarray, mentions: np.ndarray, y: np.ndarray,
               weight: np.ndarray, rows: np.ndarray, *, seed: int) -> _LabelFit:
    mean = mentions.mean(axis=0)
    scale = mentions.std(axis=0)
    scale[scale < 1e-9] = 1.0  # a constant feature (a label no matcher covers) stays at zero
    # sparse: lbfgs on a dense matrix this shape is several times slower, for the same solution
    x = sparse.csr_matrix(np.hstack([words_x, (mentions - mean) / scale]))
    z = np.zeros(len(y))
    for test in _folds(len(y), FOLDS, seed):
        train = np.setdiff1d(np.arange(len(y)), test)
        if y[train].min() == y[train].max():  # a fold without one of the classes: predict its rate
            z[test] = 0.0
            continue
        z[test] = _regression(x[train], y[train], weight[train]).decision_function(x[test])
    a, b = _platt(z, y)
    final = _regression(x, y, weight)
    n_words = words_x.shape[1]
    coef = final.coef_[0]
    model = LabelModel(name=name, matches=matches, intercept=float(final.intercept_[0]), mention_mean=mean,
                       mention_scale=scale, mention_coef=coef[n_words:], word_coef=coef[:n_words],
                       calibration=(a, b), threshold=0.5, support=int(y.sum()))
    return _LabelFit(model, rows, _sigmoid(a * z + b), y)


# --- stacked families: word regressions, then one combiner --------------------------

def _word_regression(x: Any, y: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, float]:
    """``(coef, intercept)`` of a words-only regression; a sample without one of the classes gives
    its smoothed log-odds as a constant."""
    from sklearn.linear_model import LogisticRegression

    if y.min() == y.max():
        return np.zeros(x.shape[1]), math.log((y.sum() + 0.5) / (len(y) - y.sum() + 0.5))
    fit = LogisticRegression(C=WORD_C, max_iter=5000).fit(x, y, sample_weight=weight)
    return fit.coef_[0].copy(), float(fit.intercept_[0])


def _word_logits(x: Any, ys: np.ndarray, weight: np.ndarray, train: np.ndarray, test: np.ndarray
                 ) -> np.ndarray:
    """Documents ``test`` x labels: the logits of word regressions fitted on ``train``."""
    out = np.zeros((len(test), ys.shape[1]))
    for j in range(ys.shape[1]):
        coef, b = _word_regression(x[train], ys[train, j], weight[train])
        out[:, j] = x[test] @ coef + b
    return out


def _inner_word_logits(x: Any, ys: np.ndarray, weight: np.ndarray, rows: np.ndarray, seed: int
                       ) -> np.ndarray:
    """Out-of-fold word logits of ``rows`` (an ``INNER_FOLDS``-fold cross-validation within them)."""
    out = np.zeros((len(rows), ys.shape[1]))
    for test in _folds(len(rows), INNER_FOLDS, seed + 1):
        train = np.setdiff1d(np.arange(len(rows)), test)
        out[test] = _word_logits(x, ys, weight, rows[train], rows[test])
    return out


def _combiner_rows(mentions: np.ndarray, logits: np.ndarray) -> np.ndarray:
    """Documents x labels x ``COMBINER_FEATURES``."""
    return np.concatenate([mentions, logits[:, :, None]], axis=2)


def _fit_combiner(f: np.ndarray, ys: np.ndarray, weight: np.ndarray, names: Sequence[str]) -> Combiner:
    """The shared regression over (document, label) pairs: standardized features + a one-hot label."""
    from sklearn.linear_model import LogisticRegression

    n_docs, n_labels, k = f.shape
    flat = f.reshape(-1, k)
    mean, scale = flat.mean(axis=0), flat.std(axis=0)
    scale[scale < 1e-9] = 1.0
    design = np.hstack([(flat - mean) / scale, np.tile(np.eye(n_labels), (n_docs, 1))])
    fit = LogisticRegression(C=COMBINER_C, max_iter=5000).fit(design, ys.reshape(-1),
                                                             sample_weight=np.repeat(weight, n_labels))
    coef = fit.coef_[0]
    intercepts = {name: float(fit.intercept_[0] + coef[k + j]) for j, name in enumerate(names)}
    return Combiner(mean, scale, coef[:k].copy(), intercepts)


def _fit_stacked(kept: Sequence[tuple[str, tuple[str, ...], np.ndarray, np.ndarray]], words_x: np.ndarray,
                 weight: np.ndarray, *, seed: int) -> tuple[list[_LabelFit], Combiner]:
    """A stacked family's word regressions and combiner, with out-of-fold probabilities of the whole
    (both stages refitted within each fold) for the thresholds and the report."""
    x = sparse.csr_matrix(words_x)
    names = [label for label, *_ in kept]
    ys = np.column_stack([y for _, _, y, _ in kept])
    mentions = np.stack([m for *_, m in kept], axis=1)  # documents x labels x mention features
    n = len(ys)
    oof = np.zeros(ys.shape)
    for test in _folds(n, FOLDS, seed):
        train = np.setdiff1d(np.arange(n), test)
        inner = _inner_word_logits(x, ys, weight, train, seed)
        combiner = _fit_combiner(_combiner_rows(mentions[train], inner), ys[train], weight[train], names)
        f = _combiner_rows(mentions[test], _word_logits(x, ys, weight, train, test))
        oof[test] = _sigmoid(combiner.logits(f, tuple(names)))
    everything = np.arange(n)
    combiner = _fit_combiner(_combiner_rows(mentions, _inner_word_logits(x, ys, weight, everything, seed)),
                             ys, weight, names)
    fits = []
    for j, (label, matches, y, _) in enumerate(kept):
        coef, b = _word_regression(x, y, weight)
        k = len(COMBINER_FEATURES) - 1  # the mention features: read by the combiner, not the word regression
        model = LabelModel(name=label, matches=matches, intercept=b, mention_mean=np.zeros(k),
                           mention_scale=np.ones(k), mention_coef=np.zeros(k), word_coef=coef,
                           calibration=(1.0, 0.0), threshold=0.5, support=int(y.sum()))
        fits.append(_LabelFit(model, everything, oof[:, j], y))
    return fits, combiner


def _f1(tp: int, fp: int, fn: int) -> float:
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def _prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(_f1(tp, fp, fn), 4),
            "tp": tp, "fp": fp, "fn": fn}


def _counts(fits: Sequence[_LabelFit], thresholds: Sequence[float], mask: Callable[[_LabelFit], np.ndarray]
            ) -> tuple[int, int, int]:
    tp = fp = fn = 0
    for fit, t in zip(fits, thresholds, strict=True):
        keep = mask(fit)
        pred, gold = fit.oof[keep] >= t, fit.gold[keep] == 1
        tp += int((pred & gold).sum())
        fp += int((pred & ~gold).sum())
        fn += int((~pred & gold).sum())
    return tp, fp, fn


def _everything(fit: _LabelFit) -> np.ndarray:
    return np.ones(len(fit.gold), dtype=bool)


def _best_threshold(fits: Sequence[_LabelFit], *, near: float) -> float:
    """The micro-F1-best of ``THRESHOLDS`` for ``fits`` together; ties go to the one nearest ``near``."""
    def key(t: float) -> tuple[float, float]:
        return _f1(*_counts(fits, [t] * len(fits), _everything)), -abs(t - near)

    return max(THRESHOLDS, key=key)


def choose_thresholds(fits: Sequence[_LabelFit]) -> list[float]:
    """Each label's threshold: the family's micro-F1-best one, moved toward the label's own F1-best
    one by ``support / (support + SHRINK)``."""
    family = _best_threshold(fits, near=0.5)
    out = []
    for fit in fits:
        own = _best_threshold([fit], near=family)
        w = fit.model.support / (fit.model.support + SHRINK)
        out.append(float(w * own + (1 - w) * family))
    return out


def fit_family(family: str, records: Sequence[AgoraRecord], features: Mapping[str, DocumentFeatures],
               weights: Mapping[str, float], vocabulary: Vocabulary, *,
               seed: int = 0) -> tuple[FamilyModel, FamilyReport]:
    """Fit every label of ``family`` with enough support on ``records`` (their ``features``)."""
    from dataclasses import replace

    if not records:
        raise DataError(f"no training documents for the {family} facets")
    words_all = np.vstack([features[r.agora_id].dense() for r in records])
    weight_all = np.array([weights[r.agora_id] for r in records])
    candidates = sorted({label for r in records for label in family_labels(family, r.tags)})
    skipped = {}
    kept: list[tuple[str, tuple[str, ...], np.ndarray, np.ndarray]] = []  # label, matches, y, mentions
    for label in candidates:
        y = np.array([int(label in family_labels(family, r.tags)) for r in records])
        if y.sum() < MIN_SUPPORT or y.sum() == len(y):
            skipped[label] = int(y.sum())
            continue
        matches = matches_of(family, label)
        mentions = np.vstack([features[r.agora_id].mention_features(matches) for r in records])
        kept.append((label, matches, y, mentions))
    if not kept:
        raise DataError(f"no {family} label has {MIN_SUPPORT} training documents")
    combiner: Combiner | None = None
    if family in STACKED:
        fits, combiner = _fit_stacked(kept, words_all, weight_all, seed=seed)
    else:
        rows = np.arange(len(records))  # every document is an example of every label
        fits = [_fit_label(label, matches, words_all, mentions, y, weight_all, rows, seed=seed)
                for label, matches, y, mentions in kept]
    thresholds = choose_thresholds(fits)
    labels = tuple(replace(f.model, threshold=t) for f, t in zip(fits, thresholds, strict=True))
    validated = np.array([r.validated for r in records])
    subsets = {  # documents whose labels are of one kind, so scores before and after hand labels compare
        "validated": validated,
        "agora_applications": np.array([r.validated or not (lacks_applications(r) or r.hand_applications)
                                        for r in records]),
        "hand_applications": np.array([r.hand_applications for r in records]),
    }
    report = _report(family, records, fits, thresholds, validated, skipped, features, subsets)
    meta = {"trained_on": len(records), "min_support": MIN_SUPPORT, "skipped_labels": skipped}
    model = FamilyModel(family=family, labels=labels, vocabulary=vocabulary, meta=meta, combiner=combiner)
    return model, report


def _report(family: str, records: Sequence[AgoraRecord], fits: Sequence[_LabelFit],
            thresholds: Sequence[float],
            validated: np.ndarray, skipped: Mapping[str, int],
            features: Mapping[str, DocumentFeatures],
            subsets: Mapping[str, np.ndarray] | None = None) -> FamilyReport:
    def only_validated(fit: _LabelFit) -> np.ndarray:
        chosen: np.ndarray = validated[fit.rows]
        return chosen

    per_label = {}
    for fit, t in zip(fits, thresholds, strict=True):
        per_label[fit.model.name] = {"support": fit.model.support, "threshold": round(t, 4),
                                     **_prf(*_counts([fit], [t], _everything))}
    micro = _prf(*_counts(fits, thresholds, _everything))
    macro = round(float(np.mean([v["f1"] for v in per_label.values()])), 4)
    baseline = _baseline(family, records, fits, features) if family in ("sector", "instrument") else {}
    return FamilyReport(family=family, n_documents=len(records), labels=per_label, micro=micro,
                        macro_f1=macro, validated=_prf(*_counts(fits, thresholds, only_validated)),
                        baseline=baseline,
                        subsets={name: _subset_scores(fits, thresholds, mask)
                                 for name, mask in (subsets or {}).items() if mask.any()})


def _subset_scores(fits: Sequence[_LabelFit], thresholds: Sequence[float], documents: np.ndarray
                   ) -> dict[str, Any]:
    """Out-of-fold micro P/R/F1 and macro-F1 on the documents where ``documents`` is true (macro over
    the labels with at least one such document)."""
    def inside(fit: _LabelFit) -> np.ndarray:
        chosen: np.ndarray = documents[fit.rows]
        return chosen

    per_label = [_f1(*_counts([fit], [t], inside)) for fit, t in zip(fits, thresholds, strict=True)
                 if (fit.gold[inside(fit)] == 1).any()]
    return {"n": int(documents.sum()), "micro": _prf(*_counts(fits, thresholds, inside)),
            "macro_f1": round(float(np.mean(per_label)), 4) if per_label else 0.0}


def _baseline(family: str, records: Sequence[AgoraRecord], fits: Sequence[_LabelFit],
              features: Mapping[str, DocumentFeatures]) -> dict[str, Any]:
    """The phrase-list rule on the same documents and labels (sectors: ``agora.present_sectors``;
    instruments: mentioned in at least two sentences)."""
    from policylens.nlp.agora import present_sectors

    tp = fp = fn = 0
    per_label_f1 = []
    for fit in fits:
        a = b = c = 0
        for row, gold in zip(fit.rows, fit.gold, strict=True):
            counts = features[records[row].agora_id].mention_counts()
            if family == "sector":
                present = present_sectors({k.split(":", 1)[1]: v for k, v in counts.items()
                                           if k.startswith("sector:")})
                pred = fit.model.name in present
            else:
                pred = counts.get(f"instrument:{fit.model.name}", 0) >= 2
            a += int(pred and gold == 1)
            b += int(pred and gold == 0)
            c += int(not pred and gold == 1)
        tp, fp, fn = tp + a, fp + b, fn + c
        per_label_f1.append(_f1(a, b, c))
    return {"micro": _prf(tp, fp, fn), "macro_f1": round(float(np.mean(per_label_f1)), 4)}


# --- the whole run -----------------------------------------------------------------

def _tag_file(path: str) -> TaggedDocument:
    from policylens.extract import extract
    from policylens.nlp import tag

    return tag(extract(Path(path)))


def tag_records(records: Sequence[AgoraRecord], *, workers: int | None = None,
                progress: Callable[[int, int], None] | None = None) -> tuple[dict[str, TaggedDocument],
                                                                          dict[str, str]]:
    """Tag each record's full text as ``rank`` would: ``(tagged by id, error by id)``."""
    from policylens.corpus.engines import get_engine

    by_path = {str(r.path): r.agora_id for r in records}
    engine = get_engine("local", workers=workers)
    tagged: dict[str, TaggedDocument] = {}
    errors: dict[str, str] = {}
    try:
        for done, outcome in enumerate(engine.map(_tag_file, list(by_path)), start=1):
            agora_id = by_path[str(outcome.item)]
            if outcome.ok and outcome.value is not None:
                tagged[agora_id] = outcome.value
            else:
                errors[agora_id] = str(outcome.error)
            if progress is not None:
                progress(done, len(by_path))
    finally:
        engine.close()
    return tagged, errors


def train_facets(documents: str | Path, *, families: Sequence[str] = ("sector", "instrument", "agora"),
                 seed: int = 0, workers: int | None = None,
                 progress: Callable[[int, int], None] | None = None,
                 tagged: Mapping[str, TaggedDocument] | None = None,
                 application_labels: str | Path | bool = True) -> Training:
    """Train the facet families on the AGORA training documents of the corpus folder ``documents``.

    ``tagged`` (by AGORA id) skips tagging documents already tagged by the caller.
    ``application_labels``: the hand labels of Applications to use (``True``: the repository's
    ``corpora/annotations/agora/applications.jsonl``, if present; ``False``: none; or a file).
    """
    corpus = Path(documents)
    agora_dir = corpus / "agora"
    held_out = evaluation_only(corpus)
    records = read_agora(agora_dir / "documents.csv", agora_dir / "fulltext")
    human, unreviewed, evaluation = split_records(records, held_out)
    human = [r for r in human if r.tags]  # an annotated document without a single tag was left unfinished
    hand_file, hand = _application_labels(application_labels, held_out)
    human, hand_used = with_application_labels(human, hand)
    train = human + unreviewed
    if any(r.agora_id in held_out for r in train):  # pragma: no cover - split_records guarantees it
        raise DataError("an evaluation-only document reached the training set")
    have = dict(tagged or {})
    missing = [r for r in train if r.agora_id not in have]
    new, errors = tag_records(missing, workers=workers, progress=progress) if missing else ({}, {})
    have.update(new)
    train = [r for r in train if r.agora_id in have]
    human = [r for r in human if r.agora_id in have]
    texts = [[w for s in have[r.agora_id].sentences for w in words(s.text)] for r in train]
    vocabulary = build_vocabulary(texts, stop_words=_stop_words())
    features = {r.agora_id: document_features(have[r.agora_id].sentences, vocabulary) for r in train}
    weights = {r.agora_id: 1.0 for r in human} | {r.agora_id: UNREVIEWED_WEIGHT for r in unreviewed}
    labelled = human + [r for r in unreviewed if r.tags]
    models, reports = {}, {}
    for family in families:
        models[family], reports[family] = fit_family(family, labelled, features, weights, vocabulary,
                                                         seed=seed)
    card = _card(corpus, vocabulary, models, reports, human=human, unreviewed=unreviewed,
                 evaluation=evaluation, errors=errors, seed=seed)
    card["training_data"]["application_labels"] = _hand_summary(hand_file, hand, human, hand_used)
    return Training(vocabulary, models, reports, card)


def _application_labels(choice: str | Path | bool, held_out: frozenset[str]
                        ) -> tuple[Path | None, dict[str, ApplicationLabel]]:
    """The hand-label file chosen and its labels (none when switched off or, by default, absent)."""
    if choice is False:
        return None, {}
    path = default_application_labels() if choice is True else Path(choice)
    if choice is True and not path.is_file():
        return None, {}
    return path, read_application_labels(path, held_out)


def _hand_summary(path: Path | None, labels: Mapping[str, ApplicationLabel], human: Sequence[AgoraRecord],
                  used: int) -> dict[str, Any]:
    """What the model card says about the hand labels of Applications."""
    if path is None:
        return {"file": None, "used": 0}
    counts: dict[str, int] = {}
    for record in human:
        if record.hand_applications:
            for tag in sorted(labels[record.agora_id].applications):
                counts[tag] = counts.get(tag, 0) + 1
    return {"file": path.name, "sha256": hashlib.sha256(path.read_bytes()).hexdigest(), "labels": len(labels),
            "used": used, "used_empty": sum(r.hand_applications and not labels[r.agora_id].applications
                                            for r in human),
            "applications": dict(sorted(counts.items()))}


def _sha(parts: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def _card(corpus: Path, vocabulary: Vocabulary, models: Mapping[str, FamilyModel],
          reports: Mapping[str, FamilyReport], *, human: Sequence[AgoraRecord],
          unreviewed: Sequence[AgoraRecord], evaluation: Sequence[AgoraRecord], errors: Mapping[str, str],
          seed: int) -> dict[str, Any]:
    import sklearn

    from policylens import __version__
    from policylens.nlp.agora import AGORA_TO_SECTOR

    csv_path = corpus / "agora" / "documents.csv"
    return {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "policylens": __version__,
        "libraries": {"scikit-learn": sklearn.__version__, "numpy": np.__version__},
        "training_data": {
            "source": "AGORA (ETO/CSET) documents.csv and full texts, read in place; nothing copied",
            "documents_csv_sha256": hashlib.sha256(csv_path.read_bytes()).hexdigest(),
            "human_tagged": len(human),
            "human_tagged_validated": sum(r.validated for r in human),
            "unreviewed": len(unreviewed),
            "unreviewed_with_tags": sum(bool(r.tags) for r in unreviewed),
            "evaluation_only_left_out": len(evaluation),
            "untaggable": dict(errors),
            "training_ids_sha256": _sha(sorted(r.agora_id for r in [*human, *unreviewed])),
        },
        "mapping": {
            "sector": {area: sector for area, sector in AGORA_TO_SECTOR.items()},
            "instrument": {inst: list(tags) for inst, tags in AGORA_TO_INSTRUMENT.items()},
            "agora": "AGORA's own tags, unchanged",
        },
        "settings": {"vocabulary_size": len(vocabulary), "min_df": MIN_DF, "C": C, "folds": FOLDS,
                     "seed": seed, "min_support": MIN_SUPPORT, "threshold_shrink": SHRINK,
                     "unreviewed_weight": UNREVIEWED_WEIGHT, "mention_features": list(MENTION_FEATURES),
                     "stacked_families": [f for f in models if f in STACKED], "word_C": WORD_C,
                     "combiner_C": COMBINER_C, "inner_folds": INNER_FOLDS},
        "vocabulary": vocabulary.version,
        "models": {family: model.version for family, model in models.items()},
        "cross_validation": {family: report.to_dict() for family, report in reports.items()},
    }


# --- writing -------------------------------------------------------------------------

def save_training(training: Training, out: str | Path) -> list[Path]:
    """Write the vocabulary, each family's model and the model card (JSON and Markdown) into ``out``."""
    import json

    from policylens.atomic import write_text_atomic
    from policylens.nlp.facet_model import CARD_FILE, CARD_MD, save_vocabulary

    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    written = [save_vocabulary(training.vocabulary, folder)]
    written += [model.save(folder) for model in training.models.values()]
    write_text_atomic(folder / CARD_FILE, json.dumps(training.card, indent=2, ensure_ascii=False) + "\n")
    write_text_atomic(folder / CARD_MD, model_card_markdown(training))
    return [*written, folder / CARD_FILE, folder / CARD_MD]


def _hand_lines(hand: Mapping[str, Any]) -> list[str]:
    """The model card's bullet on the hand labels of Applications (none when none were used)."""
    if not hand.get("used"):
        return []
    counts = "; ".join(f"{tag.removeprefix('Applications: ')} {n}" for tag, n in hand["applications"].items())
    return [f"- {hand['used']} unvalidated training documents with human tags but no Applications tag got "
            f"their Applications from the project's hand labels (`corpora/annotations/agora/{hand['file']}`, "
            f"sha256 `{hand['sha256'][:16]}`; {hand['used_empty']} of them read as no Applications at all): "
            f"{counts}. They count as AGORA's tags would, in `sector` and in `agora`'s Applications."]


def _top_words(model: LabelModel, vocabulary: Vocabulary, n: int = 8) -> str:
    order = np.argsort(-model.word_coef)[:n]
    return ", ".join(vocabulary.words[i] for i in order if model.word_coef[i] > 0)


def _stacked_method(training: Training) -> list[str]:
    settings = training.card["settings"]
    stacked = [f for f in training.models if training.models[f].combiner is not None]
    if not stacked:
        return []
    lines = [f"Stacked ({', '.join(stacked)}): each label's regression reads the words only (C = "
             f"{settings['word_C']:g}); one regression shared by the family's labels, the combiner "
             f"(C = {settings['combiner_C']:g}), reads each label's six mention features and its word "
             "logit, with one intercept per label, and gives the probability (no separate Platt step: it is "
             f"itself fitted on out-of-fold word logits, from a {settings['inner_folds']}-fold "
             "cross-validation). Its out-of-fold predictions, both stages refitted in each fold, choose the "
             "thresholds as above.", ""]
    for family in stacked:
        combiner = training.models[family].combiner
        assert combiner is not None
        lines += [f"Combiner of `{family}` (weights per standard deviation of each feature):", "",
                  "| feature | weight |", "|---|---|"]
        lines += [f"| {name} | {w:+.3f} |" for name, w in zip(COMBINER_FEATURES, combiner.coef, strict=True)]
        lines.append("")
    return lines


def model_card_markdown(training: Training) -> str:
    """The human-readable model card: data, mapping, method, cross-validated scores, top words."""
    card = training.card
    data = card["training_data"]
    lines = [
        "# Document facet models",
        "",
        f"Trained {card['created']} by policylens {card['policylens']} "
        f"(scikit-learn {card['libraries']['scikit-learn']}, numpy {card['libraries']['numpy']}). "
        "Regenerate with `policylens train --part facets --documents ../shared/corpus`.",
        "",
        "## Training data",
        "",
        "AGORA (ETO/CSET, `../shared/corpus/agora/`, read in place; no text of it is in this folder: "
        "the vocabulary is a list of common words with their weights).",
        "",
        f"- {data['human_tagged']} training documents with human tags ({data['human_tagged_validated']} of "
        "them validated by AGORA's reviewers): their tags are the labels.",
        f"- {data['unreviewed']} training documents whose tags may include unreviewed machine output: "
        f"{data['unreviewed_with_tags']} of them carry any tag in this snapshot, so they serve the "
        "vocabulary and idf only (tags would count at sample weight "
        f"{card['settings']['unreviewed_weight']}).",
        f"- {data['evaluation_only_left_out']} evaluation-only documents (`eval_documents.txt`) were left "
        "out "
        "before anything was read from them: not their text, not their tags.",
        "- Training documents with no tag at all (in any taxonomy) are left out: their annotation was not "
        "finished. Every other one is a negative example for each tag it lacks.",
        *_hand_lines(data.get("application_labels", {})),
        f"- documents.csv sha256 `{data['documents_csv_sha256']}`; training ids hash "
        f"`{data['training_ids_sha256']}`.",
        "",
        "## How AGORA's tags were mapped",
        "",
        "| AGORA Applications tag | codebook sector |",
        "|---|---|",
    ]
    for area, sector in card["mapping"]["sector"].items():
        lines.append(f"| {area} | {sector or '*none (not modelled)*'} |")
    lines += ["", "The codebook sector `employment` has no AGORA tag and is not modelled.", "",
              "| codebook instrument | AGORA tags (each with its sub-tags) |", "|---|---|"]
    for inst, tags in card["mapping"]["instrument"].items():
        lines.append(f"| {inst} | {'; '.join(tags)} |")
    lines += ["", "The family `agora` (`--facets agora`) predicts AGORA's own tags, unchanged.", "",
              "## Method", "",
              "Per label, an L2 logistic regression (C = "
              f"{card['settings']['C']}) over the document's TF-IDF ({card['settings']['vocabulary_size']} "
              f"words found in at least {card['settings']['min_df']} training documents) and six features of "
              "how many sentences the span matchers found the label in. Out-of-fold predictions of a "
              f"{card['settings']['folds']}-fold cross-validation fit a Platt calibration and the threshold "
              "(the family's F1-best one, moved toward the label's own in proportion to "
              f"support / (support + {card['settings']['threshold_shrink']:g})). Labels with fewer than "
              f"{card['settings']['min_support']} training documents are not modelled.", "",
              *_stacked_method(training),
              "## Cross-validated scores (training documents only)", "",
              "Out-of-fold, at the chosen thresholds. The labels of unvalidated documents are noisy, so the "
              "row for the validated training documents is closer to what the benchmark "
              "(`bench/document_facets.py`, evaluation-only documents) measures.", "",
              "| family | documents | micro P / R / F1 | macro-F1 | validated only F1 "
              "| phrase-list rule F1 |",
              "|---|---|---|---|---|---|"]
    for family, rep in card["cross_validation"].items():
        m = rep["micro"]
        base = rep["baseline"]
        base_text = f"{base['micro']['f1']:.3f} (macro {base['macro_f1']:.3f})" if base else "—"
        lines.append(f"| {family} | {rep['n_documents']} | {m['precision']:.3f} / {m['recall']:.3f} / "
                     f"{m['f1']:.3f} | {rep['macro_f1']:.3f} | {rep['validated']['f1']:.3f} | {base_text} |")
    for family, model in training.models.items():
        rep = card["cross_validation"][family]
        lines += ["", f"### {family}", "", "| label | support | threshold | CV F1 | strongest words |",
                  "|---|---|---|---|---|"]
        for label in model.labels:
            row = rep["labels"][label.name]
            lines.append(f"| {label.name} | {row['support']} | {row['threshold']:.2f} | {row['f1']:.2f} | "
                         f"{_top_words(label, training.vocabulary)} |")
        if skipped := model.meta.get("skipped_labels"):
            lines += ["", "Not modelled (too few training documents): "
                      + "; ".join(f"{k} ({v})" for k, v in skipped.items()) + "."]
    return "\n".join(lines) + "\n"
