"""Training the governance model (``policylens train``).

1. Load the annotations and keep only the ``train`` split (the held-out split
   is chosen by id hash in ``annotations.py``; nothing here can reach it). With
   ``standoff`` + ``documents``, add the ``train`` split of stand-off labels for
   real sentences, read from the documents in place (``standoff.py``); their
   held-out split is scored on its own in step 6.
2. Compute named features with the same pipeline that tags documents.
3. Fit two linear models on the same features, a multinomial logistic
   regression and a complement naive Bayes, and average their class scores:
   the mix is again one linear model (``coef = (1 - w) * lr + w * nb``), saved
   as plain weights. ``C``, the NB smoothing ``alpha`` and the weight ``w`` are
   chosen by stratified 5-fold cross-validation on the training split (best
   out-of-fold macro-F1); a softmax temperature is fitted on the out-of-fold
   scores (calibration).
4. Set the target class priors: real documents are mostly neutral, unlike the
   training set. By default they are ``DEFAULT_TARGET_PRIOR``, an EM estimate
   on real framework documents (docs/tagging.md, "Priors"). With ``unlabeled=DIR`` they
   are re-estimated by EM (Saerens et al., 2002) from the sentences of
   unlabelled documents, which fits no label to any of them; ``target_prior``
   sets them outright.
5. Optionally (``self_train=DIR``), self-training for the domain shift between
   written and real sentences: the model tags up to ``PER_DOCUMENT`` sentences of
   each unlabelled real document; the most confident ones per class, in the
   proportions of the target priors, join the written sentences with a lower
   sample weight, and the model is refit (``SELF_TRAIN_ROUNDS`` rounds, each
   re-tagging with the last model). The share and weight are chosen by 5-fold
   cross-validation on the written training split, pseudo-labelling inside each
   fold; only features are kept in memory, no real sentence is written anywhere.
6. Score the held-out split once, and write ``model.json``, the cue patterns,
   ``model_card.json`` and ``MODEL_CARD.md``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from policylens import __version__
from policylens.atomic import write_text_atomic
from policylens.errors import DataError
from policylens.labels import LABELS
from policylens.nlp.annotations import Annotation, data_sha256, load_annotations, split
from policylens.nlp.features import build_vocabulary, sentence_features, to_matrix
from policylens.nlp.metrics import classification_report
from policylens.nlp.model import CARD_FILE, CUES_DIR, GovernanceModel, default_model_dir
from policylens.nlp.standoff import load_standoff, resolve

#: Class priors of real policy documents (centralized, sector_specific, neutral): the EM estimate
#: (Saerens et al.) of the shipped model on up to 300 sentences from each of the 49 framework
#: documents at the top of ../shared/corpus, ``policylens train --unlabeled ../shared/corpus``.
#: Plain ``policylens train`` uses these numbers; docs/tagging.md, "Priors", explains the choice.
DEFAULT_TARGET_PRIOR = (0.0698, 0.0851, 0.8451)
C_GRID = (0.5, 1.0, 2.0)
#: Smoothing of the complement naive Bayes half of the ensemble.
ALPHA_GRID = (0.1, 0.3, 1.0)
#: Weight of the naive Bayes scores in the averaged scores (0 = logistic regression alone).
NB_WEIGHT_GRID = (0.0, 0.3, 0.5, 0.7)
#: Unlabelled sentences taken from one document for EM priors, so long documents do not dominate.
PER_DOCUMENT = 300
_EVALUATION_ONLY = ("dev_sentences",)
#: Pseudo-labelled real sentences per written training sentence (self-training; 0 = none).
SELF_TRAIN_SHARES = (0.25, 0.5, 1.0)
#: Sample weight of one pseudo-labelled sentence (a written sentence weighs 1).
SELF_TRAIN_WEIGHTS = (0.1, 0.3)
SELF_TRAIN_ROUNDS = 2
#: Cross-validated macro-F1 on the written sentences that self-training may cost at most.
SELF_TRAIN_TOLERANCE = 0.01


@dataclass(frozen=True)
class TrainResult:
    """What ``train`` wrote, for the CLI to report."""

    out: Path
    card: dict[str, Any]


def featurize(texts: Sequence[str], nlp: Any) -> list[dict[str, float]]:
    """Named features of each text, each taken as one sentence (as in evaluation)."""
    from policylens.nlp.segment import HEADING_FLAG

    docs = []
    for text in texts:
        doc = nlp.make_doc(text)
        doc.user_data[HEADING_FLAG] = True  # one line = one sentence
        docs.append(doc)
    return [sentence_features(doc[:]) for doc in nlp.pipe(docs, batch_size=256)]


def _fit(x: Any, y: np.ndarray, c: float, seed: int, weights: np.ndarray | None = None) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, max_iter=5000, random_state=seed).fit(x, y, sample_weight=weights)


def _nb_weights(x: Any, y: np.ndarray, alpha: float, weights: np.ndarray | None = None) -> np.ndarray:
    """Complement NB log weights, (n_labels, n_features); its scores are ``x @ w.T``."""
    from sklearn.naive_bayes import ComplementNB

    # NB needs non-negative counts; the one signed column (n:balance) counts only its positive part.
    nb = ComplementNB(alpha=alpha).fit(x.maximum(0), y, sample_weight=weights)
    return np.asarray(nb.feature_log_prob_, dtype=np.float64)


@dataclass(frozen=True)
class _Choice:
    c: float
    alpha: float
    nb_weight: float
    macro_f1: float
    scores: np.ndarray  # out-of-fold ensemble scores


def _macro_f1(scores: np.ndarray, y: np.ndarray) -> float:
    pred = scores.argmax(axis=1)
    f1s = []
    for k in range(len(LABELS)):
        tp = float(np.sum((pred == k) & (y == k)))
        denom = float(np.sum(pred == k) + np.sum(y == k))
        f1s.append(2 * tp / denom if denom else 0.0)
    return float(np.mean(f1s))


def _cross_validate(x: Any, y: np.ndarray, seed: int) -> _Choice:
    """Best (C, alpha, NB weight) by out-of-fold macro-F1, with the out-of-fold scores there."""
    from sklearn.model_selection import StratifiedKFold

    folds = list(StratifiedKFold(n_splits=5, shuffle=True, random_state=seed).split(x, y))
    lr_scores = {c: np.zeros((len(y), len(LABELS))) for c in C_GRID}
    nb_scores = {a: np.zeros((len(y), len(LABELS))) for a in ALPHA_GRID}
    for train_idx, test_idx in folds:
        for c in C_GRID:
            lr_scores[c][test_idx] = _fit(x[train_idx], y[train_idx], c, seed).decision_function(x[test_idx])
        for a in ALPHA_GRID:
            nb_scores[a][test_idx] = np.asarray(x[test_idx] @ _nb_weights(x[train_idx], y[train_idx], a).T)
    best: _Choice | None = None
    for c in C_GRID:
        for a in ALPHA_GRID:
            for w in NB_WEIGHT_GRID:
                scores = (1 - w) * lr_scores[c] + w * nb_scores[a]
                score = _macro_f1(scores, y)
                if best is None or score > best.macro_f1 + 1e-9:
                    best = _Choice(c, a, w, score, scores)
    assert best is not None
    return best


def _log_loss(logits: np.ndarray, y: np.ndarray, temperature: float) -> float:
    z = logits / temperature
    z = z - z.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(-logp[np.arange(len(y)), y].mean())


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """The softmax temperature minimising log-loss (a 1-D grid search is enough)."""
    grid = np.exp(np.linspace(np.log(0.3), np.log(4.0), 60))
    return float(min(grid, key=lambda t: _log_loss(logits, y, t)))


def em_priors(probs: np.ndarray, train_prior: np.ndarray, *, iterations: int = 100) -> np.ndarray:
    """Class priors of an unlabelled sample by EM (Saerens, Latinne & Decaestecker 2002)."""
    prior = train_prior.copy()
    for _ in range(iterations):
        adjusted = probs * (prior / train_prior)
        adjusted /= adjusted.sum(axis=1, keepdims=True)
        new = adjusted.mean(axis=0)
        if np.abs(new - prior).max() < 1e-6:
            return np.asarray(new)
        prior = new
    return prior


UNLABELED_SUFFIXES = (".txt", ".md", ".pdf")


def unlabeled_features(folder: Path, nlp: Any, *, per_document: int = PER_DOCUMENT,
                       seed: int = 0) -> list[dict[str, float]]:
    """Features of up to ``per_document`` sentences from each ``.txt``/``.md``/``.pdf`` file of
    ``folder`` (a reproducible sample), so every document weighs about the same."""
    from policylens.errors import PolicylensError
    from policylens.extract import extract
    from policylens.nlp.features import doc_features
    from policylens.nlp.pipeline import text_blocks

    files = sorted(f for f in folder.iterdir() if f.suffix.lower() in UNLABELED_SUFFIXES)
    if not files:
        raise DataError(f"no .txt, .md or .pdf files in {folder}")
    rows: list[dict[str, float]] = []
    for file in files:
        try:
            blocks = (extract(file).blocks if file.suffix.lower() == ".pdf"
                      else text_blocks(file.read_text(encoding="utf-8", errors="replace")))
        except PolicylensError:
            continue  # an unreadable document only leaves the sample smaller
        paragraphs = [block.text for block in blocks if block.kind == "paragraph"]
        doc_rows: list[dict[str, float]] = []
        for doc in nlp.pipe(paragraphs, batch_size=64):
            bounds = [(s.start, s.end) for s in doc.sents if len(s) >= 6]
            doc_rows.extend(doc_features(doc, bounds))
        random.Random(seed).shuffle(doc_rows)
        rows.extend(doc_rows[:per_document])
    return rows


@dataclass(frozen=True)
class _Linear:
    """One fitted ensemble: its vocabulary, weights and the (weighted) class mix it was fitted on."""

    vocabulary: dict[str, int]
    coef: np.ndarray
    intercept: np.ndarray
    train_prior: np.ndarray

    def logits(self, rows: Sequence[dict[str, float]]) -> np.ndarray:
        return np.asarray(to_matrix(rows, self.vocabulary) @ self.coef.T + self.intercept)


def _fit_linear(rows: Sequence[dict[str, float]], y: np.ndarray, weights: np.ndarray, choice: _Choice,
                seed: int) -> _Linear:
    """The ensemble of ``choice`` fitted on ``rows`` (vocabulary built from these rows)."""
    vocabulary = build_vocabulary(rows)
    x = to_matrix(rows, vocabulary)
    w = choice.nb_weight
    clf = _fit(x, y, choice.c, seed, weights)
    coef = (1 - w) * clf.coef_.astype(np.float64) + w * _nb_weights(x, y, choice.alpha, weights)
    mass = np.bincount(y, weights=weights, minlength=len(LABELS))
    return _Linear(vocabulary, coef, (1 - w) * clf.intercept_.astype(np.float64), mass / mass.sum())


def pseudo_labels(logits: np.ndarray, shift: np.ndarray, prior: np.ndarray,
                  n: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices and labels of the ``n`` most confident unlabelled rows, ``round(n * prior[k])`` per class.

    Confidence is the margin of a class's prior-shifted logit over the best other class, among the
    rows predicted as that class; the margin does not depend on the softmax temperature.
    """
    z = logits + shift
    pred = z.argmax(axis=1)
    idx: list[np.ndarray] = []
    labels: list[np.ndarray] = []
    for k in range(len(LABELS)):
        rows = np.flatnonzero(pred == k)
        others = np.delete(z[rows], k, axis=1).max(axis=1)
        margin = z[rows, k] - others
        take = rows[np.argsort(-margin, kind="stable")[: int(n * prior[k] + 0.5)]]
        idx.append(take)
        labels.append(np.full(len(take), k))
    return np.concatenate(idx), np.concatenate(labels)


def _self_trained(rows: list[dict[str, float]], y: np.ndarray, rows_u: list[dict[str, float]],
                  prior: np.ndarray, choice: _Choice, share: float, weight: float, seed: int,
                  base: _Linear | None = None) -> _Linear:
    """``SELF_TRAIN_ROUNDS`` rounds of: tag the unlabelled rows, add the confident ones, refit."""
    model = base or _fit_linear(rows, y, np.ones(len(y)), choice, seed)
    for _ in range(SELF_TRAIN_ROUNDS):
        shift = np.log(prior) - np.log(model.train_prior)
        idx, labels = pseudo_labels(model.logits(rows_u), shift, prior, int(share * len(y)))
        weights = np.concatenate([np.ones(len(y)), np.full(len(idx), weight)])
        model = _fit_linear(rows + [rows_u[i] for i in idx], np.concatenate([y, labels]), weights,
                            choice, seed)
    return model


@dataclass(frozen=True)
class SelfTrainChoice:
    """The chosen share and weight (0, 0 = no self-training) and every cross-validated setting."""

    share: float
    weight: float
    macro_f1: float
    scores: np.ndarray  # out-of-fold scores of the chosen setting (for the temperature)
    grid: dict[str, float]  # "share/weight" -> CV macro-F1 ("0/0" is the model without self-training)


def choose_self_training(rows: list[dict[str, float]], y: np.ndarray, rows_u: list[dict[str, float]],
                         prior: np.ndarray, choice: _Choice, seed: int) -> SelfTrainChoice:
    """Cross-validate self-training on the written sentences, pseudo-labelling inside each fold.

    CV on written sentences cannot show a gain on real text, only a cost; so the choice is the
    most pseudo-label mass (share x weight) costing at most ``SELF_TRAIN_TOLERANCE`` macro-F1
    against the same CV without self-training.
    """
    from sklearn.model_selection import StratifiedKFold

    settings = [(0.0, 0.0)] + [(s, w) for s in SELF_TRAIN_SHARES for w in SELF_TRAIN_WEIGHTS]
    oof = {st: np.zeros((len(y), len(LABELS))) for st in settings}
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed).split(np.zeros(len(y)), y)
    written_prior = np.bincount(y, minlength=len(LABELS)) / len(y)
    for train_idx, test_idx in folds:
        fold_rows = [rows[i] for i in train_idx]
        test_rows = [rows[i] for i in test_idx]
        base = _fit_linear(fold_rows, y[train_idx], np.ones(len(train_idx)), choice, seed)
        for share, weight in settings:
            model = base if share == 0 else _self_trained(fold_rows, y[train_idx], rows_u, prior, choice,
                                                           share, weight, seed, base=base)
            # Pseudo-labels move the fitted class mix towards neutral; score every setting under the
            # written sentences' own mix, as the CV without self-training does.
            oof[(share, weight)][test_idx] = (model.logits(test_rows) - np.log(model.train_prior)
                                              + np.log(written_prior))
    f1 = {st: _macro_f1(scores, y) for st, scores in oof.items()}
    floor = f1[(0.0, 0.0)] - SELF_TRAIN_TOLERANCE
    share, weight = max((st for st in settings if f1[st] >= floor), key=lambda st: (st[0] * st[1], f1[st]))
    return SelfTrainChoice(share, weight, f1[(share, weight)], oof[(share, weight)],
                           {f"{s:g}/{w:g}": round(v, 4) for (s, w), v in f1.items()})


def _check_not_evaluation_data(path: Path | None) -> None:
    if path is not None and any(marker in str(path) for marker in _EVALUATION_ONLY):
        raise DataError(f"{path} is evaluation-only data; policylens never trains on it")


def _shown(path: Path) -> str:
    """A folder as the model card names it: relative to the working folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def train(data: Path | None = None, out: Path | None = None, *, seed: int = 0,
          unlabeled: Path | None = None, target_prior: Sequence[float] | None = None,
          self_train: Path | None = None, standoff: Path | None = None,
          documents: Path | None = None, content_from: Path | None = None,
          content_more: Sequence[Path] = ()) -> TrainResult:
    """Train the governance model on the ``train`` split of ``data`` and write it to ``out``.

    ``self_train``: a folder of unlabelled real documents for self-training (module docstring, 5);
    unless ``unlabeled`` or ``target_prior`` is given, it also gives the EM target priors.
    ``standoff`` + ``documents``: stand-off labels for sentences of real documents (module
    docstring, 1); their train split is added, their held-out split scored on its own.
    ``content_from`` + ``documents``: a folder of v2.0 stand-off labels of free documents
    (``corpora/annotations/agora``); the sentences whose label judges their words are added
    (``labelled.content_labels``), written sentences are labelled by their words
    (``labelled.content_view``), and the model predicts under its training priors: it is the
    content part of the codebook's procedure, asked about architecture sentences and the
    provisions of ``none`` documents, where governance labels are common. ``content_more``:
    further such folders (the written documents, read against their own ``docs/``).
    """
    from policylens.nlp.cues import read_pattern_files
    from policylens.nlp.labelled import content_labels, content_view
    from policylens.nlp.pipeline import build_pipeline

    _check_not_evaluation_data(data)
    _check_not_evaluation_data(standoff)
    if (standoff is not None or content_from is not None) != (documents is not None):
        raise DataError("--standoff and --documents go together: stand-off labels need the folder "
                        "of the documents they refer to")
    annotations = load_annotations(data)
    if content_from is not None:
        annotations = [content_view(a) for a in annotations]
    written_train, heldout = split(annotations)
    train_set = written_train
    out = out or default_model_dir()
    nlp = build_pipeline(classifier=False)
    standoff_info: dict[str, Any] | None = None
    real_heldout: list[Annotation] = []
    if (standoff is not None or content_from is not None) and documents is not None:
        labels = load_standoff(standoff) if standoff is not None else []
        found = resolve(labels, documents, nlp)
        if content_from is not None:
            from policylens.nlp.labelled import documents_root, evaluation_sources, refuse_evaluation

            evaluation = evaluation_sources(documents)
            for folder in (content_from, *content_more):  # each read against its own documents
                these = content_labels(folder, seed=seed)
                refuse_evaluation((label.source for label in these), evaluation, folder)
                part = resolve(these, documents_root(folder, documents), nlp)
                found.annotations.extend(part.annotations)
                found.missing_documents.update(part.missing_documents)
                found.unmatched.extend(part.unmatched)
                labels += these
        real_train, real_heldout = split(found.annotations)
        train_set = train_set + real_train
        standoff_info = {
            "file": standoff.name if standoff is not None
            else " + ".join(_shown(f) for f in (content_from, *content_more) if f is not None)
            + " (content labels)",
            "sha256": data_sha256(found.annotations), "labels": len(labels),
            "resolved": len(found.annotations),
            "documents": len({label.source for label in labels} - set(found.missing_documents)),
            "train": dict(Counter(a.label for a in real_train)),
            "heldout": dict(Counter(a.label for a in real_heldout)),
            "missing_documents": found.missing_documents, "unmatched": found.unmatched,
        }
    if len({a.label for a in train_set}) < len(LABELS):
        raise DataError("the training split needs sentences of all three labels")
    rows = featurize([a.text for a in train_set], nlp)
    vocabulary = build_vocabulary(rows)
    x = to_matrix(rows, vocabulary)
    y = np.asarray([LABELS.index(a.label) for a in train_set])
    choice = _cross_validate(x, y, seed)
    temperature = fit_temperature(choice.scores, y)
    clf = _fit(x, y, choice.c, seed)
    w = choice.nb_weight
    coef = (1 - w) * clf.coef_.astype(np.float64) + w * _nb_weights(x, y, choice.alpha)
    counts = Counter(y.tolist())
    train_prior = np.asarray([counts[i] / len(y) for i in range(len(LABELS))])
    model = GovernanceModel(vocabulary=vocabulary, coef=coef,
                            intercept=(1 - w) * clf.intercept_.astype(np.float64), temperature=temperature,
                            train_prior=tuple(train_prior.tolist()))
    prior_source = "EM estimate on real framework documents (DEFAULT_TARGET_PRIOR)"
    rows_u = unlabeled_features(self_train, nlp, seed=seed) if self_train is not None else []
    if target_prior is not None:
        prior = np.asarray(target_prior, dtype=np.float64)
        prior_source = "given"
    elif content_from is not None:
        prior = train_prior
        prior_source = "training priors (content part of the procedure)"
    elif unlabeled is not None or self_train is not None:
        source = unlabeled if unlabeled is not None else self_train
        em_rows = unlabeled_features(unlabeled, nlp, seed=seed) if unlabeled is not None else rows_u
        probs = model.predict_proba(to_matrix(em_rows, vocabulary), adjust_priors=False)
        prior = em_priors(probs, train_prior)
        prior_source = f"EM on {len(em_rows)} unlabelled sentences from {source}"
    else:
        prior = np.asarray(DEFAULT_TARGET_PRIOR)
    prior = prior / prior.sum()
    meta: dict[str, Any] = {"C": choice.c, "nb_alpha": choice.alpha, "nb_weight": w,
                            "cv_macro_f1": round(choice.macro_f1, 4), "seed": seed, "min_df": 2}
    if self_train is not None:
        st = choose_self_training(rows, y, rows_u, prior, choice, seed)
        meta["self_training"] = {"source": str(self_train), "unlabeled_sentences": len(rows_u),
                                 "share": st.share, "weight": st.weight, "rounds": SELF_TRAIN_ROUNDS,
                                 "cv_macro_f1": round(st.macro_f1, 4), "cv_grid": st.grid}
        if st.share > 0:
            fitted = _self_trained(rows, y, rows_u, prior, choice, st.share, st.weight, seed)
            vocabulary, temperature = fitted.vocabulary, fit_temperature(st.scores, y)
            model = GovernanceModel(vocabulary=vocabulary, coef=fitted.coef, intercept=fitted.intercept,
                                    temperature=temperature, train_prior=tuple(fitted.train_prior.tolist()))
    settings: list[Any] = [choice.c, choice.alpha, w, temperature, prior.round(6).tolist()]
    if "self_training" in meta:  # without it, the version hash stays what it was before the option existed
        settings += [meta["self_training"]["share"], meta["self_training"]["weight"], len(rows_u)]
    version = hashlib.sha256((data_sha256(train_set) + json.dumps(settings)).encode()).hexdigest()[:12]
    model = GovernanceModel(vocabulary=vocabulary, coef=model.coef, intercept=model.intercept,
                            temperature=temperature, train_prior=model.train_prior,
                            target_prior=tuple(prior.tolist()), version=version, meta=meta)
    heldout_metrics = _heldout_metrics(model, heldout, nlp)
    if real_heldout:
        real = _heldout_metrics(model, real_heldout, nlp)
        heldout_metrics.update({f"real_{name}": report for name, report in real.items()})
    out.mkdir(parents=True, exist_ok=True)
    model.save(out)
    # The cue patterns the features were computed with travel with the model; to_disk
    # replaces each file atomically and then drops pattern files left from an older model.
    cue_dir = out / CUES_DIR
    cues: Any = nlp.get_pipe("policylens_cues")  # the CueMatcher component (typed as a plain callable)
    cues.to_disk(cue_dir)
    read_pattern_files(cue_dir)  # fail now, not at load time, if the copy is unreadable
    card = _model_card(model, annotations, written_train, heldout, heldout_metrics, prior_source)
    if standoff_info is not None:
        card["training_data"]["standoff"] = standoff_info
    write_text_atomic(out / CARD_FILE, json.dumps(card, indent=2) + "\n")
    write_text_atomic(out / "MODEL_CARD.md", model_card_markdown(card))
    return TrainResult(out=out, card=card)


def _heldout_metrics(model: GovernanceModel, heldout: list[Annotation], nlp: Any) -> dict[str, Any]:
    if not heldout:
        return {}
    x = to_matrix(featurize([a.text for a in heldout], nlp), model.vocabulary)
    gold = [a.label for a in heldout]
    out: dict[str, Any] = {}
    for name, adjust in (("shipped_priors", True), ("training_priors", False)):
        probs = model.predict_proba(x, adjust_priors=adjust)
        pred = [LABELS[i] for i in probs.argmax(axis=1)]
        out[name] = classification_report(gold, pred)
    return out


def _versions() -> dict[str, str]:
    import scipy
    import sklearn
    from spacy import about as spacy_about

    return {"policylens": __version__, "spacy": spacy_about.__version__, "scikit-learn": sklearn.__version__,
            "numpy": np.__version__, "scipy": scipy.__version__}


def _model_card(model: GovernanceModel, annotations: list[Annotation], train_set: list[Annotation],
                heldout: list[Annotation], metrics: dict[str, Any], prior_source: str) -> dict[str, Any]:
    return {
        "name": "policylens governance sentence classifier",
        "version": model.version,
        "created": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "libraries": _versions(),
        "training_data": {
            "sha256": data_sha256(annotations),
            "train_sha256": data_sha256(train_set),
            "sentences": len(annotations),
            "train": dict(Counter(a.label for a in train_set)),
            "heldout": dict(Counter(a.label for a in heldout)),
            "heldout_rule": "sha256(id)[:8] as int % 100 < 20",
        },
        "model": {
            "kind": "average of a multinomial logistic regression and a complement naive Bayes "
                    "over lemma uni/bigrams and cue/facet features (one linear model)",
            "features": len(model.vocabulary),
            "C": model.meta.get("C"),
            "nb_alpha": model.meta.get("nb_alpha"),
            "nb_weight": model.meta.get("nb_weight"),
            "cv_macro_f1": model.meta.get("cv_macro_f1"),
            "temperature": round(model.temperature, 4),
            "train_prior": dict(zip(LABELS, [round(p, 4) for p in model.train_prior], strict=True)),
            "target_prior": dict(zip(LABELS, [round(p, 4) for p in model.target_prior], strict=True)),
            "target_prior_source": prior_source,
            "self_training": model.meta.get("self_training"),
        },
        "heldout_metrics": metrics,
        "intended_use": "Tag sentences of AI-governance policy texts (English) as centralized, "
                        "sector_specific or neutral per the policylens codebook v1.1.",
    }


def model_card_markdown(card: dict[str, Any]) -> str:
    """A short human-readable model card."""
    lines = [f"# {card['name']} ({card['version']})", "",
             f"Created {card['created']} with " + ", ".join(f"{k} {v}" for k, v in card["libraries"].items())
             + ".", "",
             f"Training data: {card['training_data']['sentences']} labelled sentences written for this "
             f"project (sha256 `{card['training_data']['sha256'][:16]}…`); trained on the train split "
             f"{card['training_data']['train']}, evaluated once on the held-out split "
             f"{card['training_data']['heldout']} ({card['training_data']['heldout_rule']}).", "",
             f"Model: {card['model']['kind']}; {card['model']['features']} features, C={card['model']['C']}, "
             f"NB alpha={card['model'].get('nb_alpha')}, NB weight={card['model'].get('nb_weight')}, "
             f"temperature {card['model']['temperature']}; 5-fold CV macro-F1 on the training split "
             f"{card['model'].get('cv_macro_f1')}.", "",
             f"Target priors {card['model']['target_prior']} ({card['model']['target_prior_source']}); "
             f"training priors {card['model']['train_prior']}.", ""]
    so = card["training_data"].get("standoff")
    if so:
        lines += [f"Also trained on stand-off labels of real sentences ({so['file']}): {so['resolved']} of "
                  f"{so['labels']} found in {so['documents']} documents; train split {so['train']}, "
                  f"held-out split {so['heldout']} (same rule; metrics marked 'real' below).", ""]
    st = card["model"].get("self_training")
    if st:
        lines += [f"Self-training on {st['unlabeled_sentences']} unlabelled sentences from {st['source']}: "
                  f"share {st['share']:g} x written sentences, weight {st['weight']:g}, "
                  f"{st['rounds']} rounds "
                  f"(0 = not used); 5-fold CV macro-F1 by share/weight {st['cv_grid']}.", ""]
    for name, report in card["heldout_metrics"].items():
        lines += [f"## Held-out metrics ({name.replace('_', ' ')})", "",
                  f"Macro-F1 **{report['macro_f1']:.3f}**.", "",
                  "| label | precision | recall | F1 | support |", "|---|---:|---:|---:|---:|"]
        for label, m in report["per_class"].items():
            lines.append(f"| {label} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} | "
                         f"{m['support']} |")
        lines.append("")
    lines += ["## Intended use", "", card["intended_use"], "",
              "Not for: languages other than English, or deciding anything about a framework from a "
              "single sentence; scores are evidence for a reader to check.", ""]
    return "\n".join(lines)
