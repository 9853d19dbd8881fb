"""Training the role and scope models (``policylens train --part role,scope``).

1. Load the training data (``labelled.py``): the written sentences' ``train``
   split (by id hash) and stand-off labels of free real documents, read in
   place. A record whose document is evaluation-only is refused. Documents are
   split by the hash of their path: about 20% of them are held out and scored
   once for the model card, the rest train.
2. **Role**: a linear model over the sentence's features and its context
   (``role.py``), ``C`` chosen by cross-validation (``fit.py``). The annotated
   sample over-represents operative clauses, so the target priors are
   re-estimated by EM on every sentence of the training documents (Saerens et
   al., 2002): no label is fitted to those extra sentences.
3. **Scope**: a linear model over each training document's title, opening and
   role-weighted words (``scope.py``), the role probabilities coming from step
   2's model. Pseudo-documents assembled from written sentences of one scope add
   examples of each scope in equal numbers. Like the role model, each scope
   weighs the same in the loss (cross-validated macro-F1 0.874 plain, 0.882
   balanced on 778 training documents, 2026-12-07).
4. Write ``role.json`` and ``scope.json`` beside the content model, and the
   figures into the model card.

**Distillation** (``teacher``, off by default): a teacher file
(``scripts/role_teacher.py``) holds the fine-tuned role encoder's probabilities of
unlabelled sentences of training documents, named by document and SHA-256 like
stand-off labels. Each such sentence joins the role model's training as one row per
role weighted ``teacher_weight`` × the teacher's probability (``fit.SoftRows``), or,
with ``teacher_confident``, as one row of its most probable role when that probability
reaches it. A teacher file naming an evaluation-only or a held-out document is refused;
a sentence with a gold label is skipped.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from policylens.errors import DataError
from policylens.labels import LABELS, ROLES, SCOPES
from policylens.nlp.annotations import load_annotations, split_of
from policylens.nlp.features import to_matrix
from policylens.nlp.fit import SoftRows, fit_linear
from policylens.nlp.labelled import (
    DocumentRows,
    Example,
    evaluation_sources,
    heldout_document,
    load_sentence_labels,
    refuse_evaluation,
    resolve_sets,
    written_examples,
)
from policylens.nlp.model import GovernanceModel
from policylens.nlp.procedure import compose, label_given
from policylens.nlp.role import RoleModel, content_features
from policylens.nlp.scope import ScopeInput, ScopeModel, predict_scope, scope_features
from policylens.nlp.train import em_priors

#: Weight of a real sentence against a written one in the role model's loss.
REAL_WEIGHT = 1.0
#: Whether the role model's loss weighs each role equally.
BALANCED = True
#: Written sentences per pseudo-document, and pseudo-documents per scope.
PSEUDO_SIZE = 30
PSEUDO_PER_SCOPE = 40
#: ``format`` of a teacher file (``scripts/role_teacher.py``, ``load_teacher``).
TEACHER_FORMAT = "policylens-role-teacher"


@dataclass(frozen=True)
class Teacher:
    """A teacher file: role probabilities (columns ``ROLES``) of sentences named by document and hash."""

    sources: list[str]
    sha256: list[str]
    probs: np.ndarray
    encoder: str
    digest: str


def load_teacher(path: Path, evaluation: set[str]) -> Teacher:
    """Read and check a teacher file (gzip JSON, ``scripts/role_teacher.py``); a sentence of an
    evaluation-only (``evaluation``) or held-out document is a ``DataError``."""
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)  # the digest below is of the content, not of gzip's header
        data = json.loads(raw)
    except (OSError, EOFError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"cannot read the teacher file ({exc})", path=str(path)) from None
    if not isinstance(data, dict) or data.get("format") != TEACHER_FORMAT:
        raise DataError(f"not a teacher file (format {TEACHER_FORMAT!r})", path=str(path))
    if data.get("roles") != list(ROLES):
        raise DataError(f"teacher roles {data.get('roles')} are not {list(ROLES)}", path=str(path))
    sources: list[str] = []
    hashes: list[str] = []
    probs: list[list[float]] = []
    for k, row in enumerate(data.get("sentences") or []):
        p = row.get("probs") if isinstance(row, dict) else None
        if (not isinstance(p, list) or len(p) != len(ROLES)
                or not all(isinstance(v, int | float) and 0.0 <= v <= 1.0 for v in p)
                or abs(sum(p) - 1.0) > 1e-3 or not isinstance(row.get("source"), str)
                or not isinstance(row.get("sha256"), str)):
            raise DataError(f"sentence {k}: needs source, sha256 and {len(ROLES)} probabilities summing to 1",
                            path=str(path))
        sources.append(row["source"])
        hashes.append(row["sha256"])
        probs.append([float(v) for v in p])
    refuse_evaluation(sources, evaluation, path)
    held = sorted({s for s in sources if heldout_document(s)})
    if held:
        raise DataError(f"{len(held)} teacher source(s) are held-out documents and may not be trained on: "
                        f"{', '.join(held[:5])}", path=str(path))
    return Teacher(sources, hashes, np.asarray(probs, dtype=np.float64).reshape(-1, len(ROLES)),
                   str(data.get("encoder", "")), hashlib.sha256(raw).hexdigest()[:12])


@dataclass(frozen=True)
class StructureResult:
    role: RoleModel
    scope: ScopeModel
    card: dict[str, Any]


def _macro_f1(gold: Sequence[str], pred: Sequence[str], names: Sequence[str]) -> dict[str, Any]:
    from sklearn.metrics import accuracy_score, f1_score

    return {
        "n": len(gold),
        "macro_f1": round(
            float(f1_score(gold, pred, labels=list(names), average="macro", zero_division=0)), 4
        ),
        "accuracy": round(float(accuracy_score(gold, pred)), 4) if gold else 0.0,
    }


def _add_content(model: GovernanceModel, content_rows: Sequence[dict[str, float]],
                 role_rows: Sequence[dict[str, float]]) -> list[dict[str, float]]:
    """The content model's probabilities of each row; each role row gains them as features."""
    if not content_rows:
        return []
    probs = model.predict_proba(to_matrix(content_rows, model.vocabulary))
    out = [dict(zip(LABELS, p, strict=True)) for p in probs.tolist()]
    for row, p in zip(role_rows, out, strict=True):
        row.update(content_features(p))
    return out


def _content_of(role_row: dict[str, float]) -> dict[str, float]:
    """The content probabilities a role row carries (``cp:`` features)."""
    return {label: role_row.get("cp:" + label, 0.0) for label in LABELS}


def pseudo_documents(
    examples: Sequence[Example], seed: int
) -> list[tuple[ScopeInput, str, list[dict[str, float]]]]:
    """Documents assembled from written sentences of one scope: ``(input, scope, role rows)``."""
    rng = random.Random(seed)
    by_scope: dict[str, list[Example]] = defaultdict(list)
    for ex in examples:
        if ex.scope in SCOPES:
            by_scope[ex.scope].append(ex)
    out: list[tuple[ScopeInput, str, list[dict[str, float]]]] = []
    for scope in SCOPES:
        pool = by_scope.get(scope, [])
        if len(pool) < PSEUDO_SIZE:
            continue
        for _ in range(PSEUDO_PER_SCOPE):
            part = rng.sample(pool, PSEUDO_SIZE)
            out.append(
                (ScopeInput(title="", texts=[""] * len(part), roles=[]), scope, [e.role_row for e in part])
            )
    return out


def class_balanced(y: Sequence[int], n_labels: int) -> np.ndarray:
    """Sample weights under which each of ``n_labels`` classes weighs the same in the loss."""
    counts = Counter(y)
    return np.asarray([len(y) / (n_labels * counts[k]) for k in y])


def _teacher_rows(
    taught: Teacher, documents: Mapping[str, DocumentRows], standoff_dirs: Sequence[Path], weight: float,
    confident: float | None,
) -> tuple[SoftRows, dict[str, Any]]:
    """The teacher's sentences as soft rows (their role rows found by hash in the training
    documents read), and what was used for the model card. Gold-labelled sentences are skipped."""
    gold: set[tuple[str, str]] = set()
    for folder in standoff_dirs:
        gold |= {(r["source"], r["sha256"]) for r in load_sentence_labels(folder / "sentences.jsonl")}
    rows: list[dict[str, float]] = []
    probs: list[np.ndarray] = []
    groups: list[str] = []
    counts = Counter[str]()
    for source, sha, p in zip(taught.sources, taught.sha256, taught.probs, strict=True):
        doc = documents.get(source)
        i = doc.index.get(sha) if doc is not None else None
        if (source, sha) in gold:
            counts["gold"] += 1
        elif doc is None or i is None:
            counts["unmatched"] += 1
        elif confident is not None and p.max() < confident:
            counts["unsure"] += 1
        else:
            rows.append(doc.role_rows[i])
            probs.append(p if confident is None else np.eye(len(ROLES))[int(p.argmax())])
            groups.append(source)
    if not rows:
        raise DataError("no sentence of the teacher file was found in the training documents")
    matrix = np.asarray(probs)
    card = {"file_sha256": taught.digest, "encoder": taught.encoder, "weight": weight,
            "confident": confident, "sentences": len(rows), "documents": len(set(groups)),
            "skipped": dict(sorted(counts.items())),
            "mass": dict(zip(ROLES, [round(float(v), 1) for v in matrix.sum(axis=0)], strict=True))}
    return SoftRows(rows, matrix, groups, weight=weight), card


def train_structure(
    *,
    documents: Path,
    standoff_dir: Path,
    more: Sequence[Path] = (),
    written: Path | None = None,
    content_model: GovernanceModel,
    evaluation_list: Path | None = None,
    seed: int = 0,
    use_written: bool = True,
    role_prior: str = "train",
    real_weight: float = REAL_WEIGHT,
    balanced: bool = BALANCED,
    teacher: Path | None = None,
    teacher_weight: float = 1.0,
    teacher_confident: float | None = None,
) -> StructureResult:
    """Fit the role and scope models (module docstring); nothing is written here.

    ``more``: further stand-off folders, such as the written documents
    (``labelled.written_documents_dir``), read against their own documents where they carry them.
    ``teacher``: a teacher file to distil from (module docstring)."""
    from policylens.nlp.pipeline import build_pipeline

    evaluation = evaluation_sources(documents, evaluation_list)
    taught = load_teacher(teacher, evaluation) if teacher is not None else None  # refused before any work
    nlp = build_pipeline(classifier=False)
    written_all = written_examples(load_annotations(written), nlp)
    written_train = [e for e in written_all if split_of(e.id) == "train"]
    real, scopes = resolve_sets([standoff_dir, *more], documents, nlp, evaluation)
    # The role model reads the content model's verdict too (``role.content_features``), as it
    # does at tagging time; the role rows are completed in place.
    contents = {src: _add_content(content_model, doc.content_rows, doc.role_rows)
                for src, doc in real.documents.items()}
    _add_content(content_model, [e.content_row for e in written_train], [e.role_row for e in written_train])
    train_real = [e for e in real.examples if not heldout_document(e.source)]
    held_real = [e for e in real.examples if heldout_document(e.source)]

    # --- role ---------------------------------------------------------------------------
    role_train = (written_train if use_written else []) + train_real
    y_role = [ROLES.index(e.role) for e in role_train]
    weights = np.asarray([real_weight if e.source else 1.0 for e in role_train])
    if balanced:  # each role weighs the same in the loss: macro-F1 rewards the rare roles' recall
        weights = weights * class_balanced(y_role, len(ROLES))
    soft, teacher_card = (
        _teacher_rows(taught, real.documents, [standoff_dir, *more], teacher_weight, teacher_confident)
        if taught is not None else (None, None)
    )
    # CV folds keep a document's sentences together; a written sentence is its own group
    fitted = fit_linear(
        [e.role_row for e in role_train], y_role, len(ROLES), seed=seed, sample_weight=weights,
        groups=[e.source or e.id for e in role_train], soft=soft,
    )
    role = RoleModel(**fitted.model_kwargs(), labels=ROLES)
    unlabeled = [
        row for src, doc in real.documents.items() if not heldout_document(src) for row in doc.role_rows
    ]
    raw = role.predict_proba(to_matrix(unlabeled, role.vocabulary), adjust_priors=False)
    prior = (
        em_priors(raw, np.asarray(role.train_prior)) if role_prior == "em" else np.asarray(role.train_prior)
    )
    # the version changes with the data, the settings and the features (a new feature family
    # with the same data is a new model)
    key: tuple[Any, ...] = (sorted(e.id for e in role_train), fitted.c, prior.round(6).tolist(),
                            sorted(fitted.vocabulary))
    if teacher_card is not None:  # a model without a teacher keeps the version it had
        key += (teacher_card,)
    version = hashlib.sha256(repr(key).encode()).hexdigest()[:12]
    role = RoleModel(
        **fitted.model_kwargs(),
        labels=ROLES,
        target_prior=tuple(prior.tolist()),
        version=version,
        meta={
            "C": fitted.c,
            "cv_macro_f1": round(fitted.cv_macro_f1, 4),
            "seed": seed,
            "em_sentences": len(unlabeled),
        },
    )

    # --- scope --------------------------------------------------------------------------
    def role_probs(rows: list[dict[str, float]]) -> list[dict[str, float]]:
        if not rows:
            return []
        probs = role.predict_proba(to_matrix(rows, role.vocabulary))
        return [dict(zip(ROLES, p, strict=True)) for p in probs.tolist()]

    scope_rows: list[dict[str, float]] = []
    scope_y: list[int] = []
    held_docs = []
    for source, doc in sorted(real.documents.items()):
        if doc.scope is None:
            continue
        inp = ScopeInput(title=doc.title, texts=doc.texts, roles=role_probs(doc.role_rows),
                         contents=contents[source])
        if heldout_document(source):
            held_docs.append((source, inp, doc.scope))
            continue
        scope_rows.append(scope_features(inp)[0])
        scope_y.append(SCOPES.index(doc.scope))
    n_real_docs = len(scope_rows)
    for inp, scope, rows in pseudo_documents(written_train, seed):
        # the scope model reads a sentence as its set of words: a written sentence's are its
        # lemma features (``w:``), close enough for a pseudo-document assembled from them
        texts = [" ".join(k[2:] for k in row if k.startswith("w:")) for row in rows]
        inp = ScopeInput(title="", texts=texts, roles=role_probs(rows),
                         contents=[_content_of(row) for row in rows])
        scope_rows.append(scope_features(inp)[0])
        scope_y.append(SCOPES.index(scope))
    # horizontal documents are rare (about 1 in 10): each scope weighs the same, as each role does
    scope_weights = class_balanced(scope_y, len(SCOPES)) if balanced else None
    sfit = fit_linear(scope_rows, scope_y, len(SCOPES), seed=seed, min_df=3, c_grid=(0.3, 1.0, 3.0, 10.0),
                      sample_weight=scope_weights)
    sversion = hashlib.sha256(
        repr((sorted(scopes.items()), sfit.c, version, sorted(sfit.vocabulary))).encode()
    ).hexdigest()[:12]
    scope_model = ScopeModel(
        **sfit.model_kwargs(),
        labels=SCOPES,
        target_prior=sfit.train_prior,
        version=sversion,
        meta={
            "C": sfit.c,
            "cv_accuracy_macro_f1": round(sfit.cv_macro_f1, 4),
            "real_documents": n_real_docs,
            "pseudo_documents": len(scope_rows) - n_real_docs,
        },
    )

    # --- held-out figures ---------------------------------------------------------------
    card: dict[str, Any] = {
        "training_data": {
            "written_sentences": len(written_train),
            "real_sentences": len(train_real),
            "real_documents_with_sentences": len({e.source for e in train_real}),
            "real_documents_with_scope": n_real_docs,
            "missing_documents": real.missing,
            "unmatched_labels": len(real.unmatched),
            "role_counts": dict(Counter(e.role for e in role_train)),
            **({"teacher": teacher_card} if teacher_card is not None else {}),
        },
        "role": {
            "C": fitted.c,
            "cv_macro_f1": round(fitted.cv_macro_f1, 4),
            "target_prior": dict(zip(ROLES, [round(p, 4) for p in prior.tolist()], strict=True)),
        },
        "scope": {"C": sfit.c, "cv_macro_f1": round(sfit.cv_macro_f1, 4)},
    }
    if held_real:
        pred_roles = role_probs([e.role_row for e in held_real])
        gold = [e.role for e in held_real]
        card["heldout_role"] = _macro_f1(gold, [max(p, key=p.__getitem__) for p in pred_roles], ROLES)
    if held_docs:
        gold_s = [s for _, _, s in held_docs]
        pred_s = [predict_scope(scope_model, inp).label for _, inp, _ in held_docs]
        card["heldout_scope"] = _macro_f1(gold_s, pred_s, SCOPES)
    if held_real:
        content = content_model.predict_proba(
            to_matrix([e.content_row for e in held_real], content_model.vocabulary)
        )
        gold_l = [e.label for e in held_real if e.scope]
        pred_l = [
            max(d := label_given(e.role, e.scope, dict(zip(LABELS, c, strict=True))), key=d.__getitem__)
            for e, c in zip(held_real, content.tolist(), strict=True)
            if e.scope
        ]
        card["heldout_label_true_role_scope"] = _macro_f1(gold_l, pred_l, LABELS)
        roles_p = role_probs([e.role_row for e in held_real])
        pred_c = [
            max(
                d := compose(rp, {s: float(s == e.scope) for s in SCOPES}, dict(zip(LABELS, c, strict=True))),
                key=d.__getitem__,
            )
            for e, c, rp in zip(held_real, content.tolist(), roles_p, strict=True)
            if e.scope
        ]
        card["heldout_label_predicted_role"] = _macro_f1(gold_l, pred_c, LABELS)
    return StructureResult(role=role, scope=scope_model, card=card)
