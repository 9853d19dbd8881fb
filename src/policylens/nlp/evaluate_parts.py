"""Scoring the tagger part by part on real labelled sentences (codebook v2.0).

Two kinds of evaluation set, both never trained on:

* a **development file** with the sentence text and its ``source`` document
  (``../shared/corpus/labeled/dev_sentences.jsonl`` and its
  ``dev_document_scopes.json``); each sentence is found in its document to get
  its context (previous sentence, section heading);
* a **stand-off file** (``corpora/annotations/eval/real/``): labels by document
  and sentence hash, with a scope file, read in the documents in place.

For every sentence the content, role and scope models give probabilities, and
the label is composed by the codebook's procedure. The report gives the label's
macro-F1 with a bootstrap 95% interval over documents, per-class P/R/F1 and the
confusion matrix, role macro-F1, scope accuracy, and an **ablation**: true scope,
true role, both, and the flat content model alone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support

from policylens.errors import DataError
from policylens.labels import LABELS, ROLES, SCOPES
from policylens.nlp.encoder import RoleEncoder
from policylens.nlp.features import doc_features, to_matrix
from policylens.nlp.labelled import DocumentRows, load_scopes, load_sentence_labels, read_document
from policylens.nlp.model import GovernanceModel
from policylens.nlp.procedure import compose
from policylens.nlp.role import CONTEXT, RoleModel, content_features, role_rows
from policylens.nlp.role_encoder import EncoderSettings, refine
from policylens.nlp.scope import ScopeInput, ScopeModel, predict_scope
from policylens.nlp.segment import HEADING_FLAG

BOOTSTRAP = 1000
_NORM = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class Item:
    """One evaluated sentence: gold parts and the models' probabilities."""

    source: str
    label: str
    role: str
    scope: str
    content: dict[str, float]
    role_probs: dict[str, float]
    scope_probs: dict[str, float]
    confidence: str | None = None


def _norm(text: str) -> str:
    return _NORM.sub(" ", text.lower()).strip()


def _match(text: str, doc: DocumentRows) -> int | None:
    """The position of ``text`` in ``doc``: equal after normalising, else best word overlap (>= 0.5)."""
    key = _norm(text)
    norms = [_norm(t) for t in doc.texts]
    for i, other in enumerate(norms):
        if other == key or (len(key) > 40 and (key in other or other in key)):
            return i
    words = set(key.split())
    best, where = 0.0, None
    for i, other in enumerate(norms):
        ow = set(other.split())
        if ow:
            score = len(words & ow) / len(words | ow)
            if score > best:
                best, where = score, i
    return where if best >= 0.5 else None


@dataclass(frozen=True)
class Models:
    """The three models; with ``encoder`` (a ``RoleEncoder``) and its ``settings``
    (``EncoderSettings``), sentence roles are those of the encoder role mode
    (``role_encoder.py``); the scope reads the linear role probabilities either way."""

    content: GovernanceModel
    role: RoleModel
    scope: ScopeModel
    encoder: RoleEncoder | None = None
    settings: EncoderSettings | None = None

    def content_probs(self, rows: Sequence[Mapping[str, float]]) -> list[dict[str, float]]:
        probs = self.content.predict_proba(to_matrix(rows, self.content.vocabulary))
        return [dict(zip(LABELS, p, strict=True)) for p in probs.tolist()]

    def role_probs(
        self, rows: Sequence[Mapping[str, float]], contents: Sequence[Mapping[str, float]]
    ) -> list[dict[str, float]]:
        """Role probabilities; each row also reads its content probabilities, as in tagging."""
        if not rows:
            return []
        full = [{**row, **content_features(c)} for row, c in zip(rows, contents, strict=True)]
        probs = self.role.predict_proba(to_matrix(full, self.role.vocabulary))
        return [dict(zip(ROLES, p, strict=True)) for p in probs.tolist()]

    def items(
        self,
        source: str,
        labelled: Sequence[Mapping[str, Any]],
        content_rows: Sequence[Mapping[str, float]],
        role_rows: Sequence[Mapping[str, float]],
        scope: str,
        scope_probs: dict[str, float],
        contexts: Sequence[tuple[str, str, str]] = (),
    ) -> list[Item]:
        """One ``Item`` per labelled sentence of ``source``, given its two feature rows
        (and its ``(section, previous sentence, sentence)`` for the encoder)."""
        content = self.content_probs(content_rows)
        roles = self.encoder_roles(self.role_probs(role_rows, content), contexts)
        return [
            Item(
                source=source,
                label=r["label"],
                role=r["role"],
                scope=scope,
                content=c,
                role_probs=rp,
                scope_probs=scope_probs,
                confidence=r.get("confidence"),
            )
            for r, c, rp in zip(labelled, content, roles, strict=True)
        ]

    def encoder_roles(self, roles: list[dict[str, float]],
                      contexts: Sequence[tuple[str, str, str]]) -> list[dict[str, float]]:
        """``roles`` with the encoder mixed in where the linear model is unsure, as tagging does."""
        if self.encoder is None or self.settings is None or not roles:
            return roles
        return refine(self.encoder, self.settings, roles, contexts)

    def scope_of(self, doc: DocumentRows) -> dict[str, float]:
        contents = self.content_probs(doc.content_rows)
        inp = ScopeInput(
            title=doc.title,
            texts=doc.texts,
            roles=self.role_probs(doc.role_rows, contents),
            contents=contents,
        )
        return dict(predict_scope(self.scope, inp).probs)


def dev_items(path: Path, scopes_path: Path, documents: Path, models: Models, nlp: Any) -> list[Item]:
    """Items of a development file (text + source), each sentence given its document's context."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    scopes = json.loads(scopes_path.read_text(encoding="utf-8"))
    items: list[Item] = []
    for source in sorted({r["source"] for r in rows}):
        doc = read_document(documents / source, nlp, source=source)
        scope_probs = models.scope_of(doc)
        group = [r for r in rows if r["source"] == source]
        docs = []
        contexts = []
        for r in group:
            i = _match(r["text"], doc)
            section = doc.sections[i] if i is not None else ""
            contexts.append((section, doc.texts[i - 1] if i else "", r["text"]))
            d = nlp.make_doc(r["text"])
            d.user_data[HEADING_FLAG] = True
            d.user_data[CONTEXT] = {
                "prev": doc.texts[i - 1] if i else "",
                "section": doc.sections[i] if i is not None else "",
            }
            docs.append(d)
        c_rows, r_rows = [], []
        for d in nlp.pipe(docs):
            base = doc_features(d, [(0, len(d))])
            c_rows.append(base[0])
            r_rows.append(role_rows(d, [d[:]], base)[0])
        items += models.items(source, group, c_rows, r_rows, scopes[source], scope_probs, contexts)
    return items


def standoff_items(
    folder: Path, documents: Path, models: Models, nlp: Any, *, labels_file: str = "labels.jsonl",
    keep: Callable[[str], bool] | None = None,
) -> tuple[list[Item], dict[str, Any]]:
    """Items of a stand-off set (``labels_file`` + ``scopes.jsonl`` in ``folder``); ``keep``:
    which documents (by source) to score, e.g. the held-out AGORA documents of the training set."""
    labels = load_sentence_labels(folder / labels_file)
    if keep is not None:
        labels = [r for r in labels if keep(r["source"])]
    scopes = load_scopes(folder / "scopes.jsonl")
    items: list[Item] = []
    unmatched = 0
    for source in sorted({r["source"] for r in labels}):
        if source not in scopes:
            raise DataError(f"no scope for {source}", path=str(folder / "scopes.jsonl"))
        doc = read_document(documents / source, nlp, source=source)
        scope_probs = models.scope_of(doc)
        group = [r for r in labels if r["source"] == source]
        where = [(r, doc.index.get(r["sha256"])) for r in group]
        unmatched += sum(i is None for _, i in where)
        found = [(r, i) for r, i in where if i is not None]
        items += models.items(
            source,
            [r for r, _ in found],
            [doc.content_rows[i] for _, i in found],
            [doc.role_rows[i] for _, i in found],
            scopes[source],
            scope_probs,
            [(doc.sections[i], doc.texts[i - 1] if i else "", doc.texts[i]) for _, i in found],
        )
    return items, {"unmatched": unmatched}


def _onehot(name: str, names: Sequence[str]) -> dict[str, float]:
    return {n: float(n == name) for n in names}


#: The ablation: which parts are the annotators' (gold) and which the models'.
VARIANTS: dict[str, Callable[[Item], dict[str, float]]] = {
    "composed": lambda it: compose(it.role_probs, it.scope_probs, it.content),
    "true_scope": lambda it: compose(it.role_probs, _onehot(it.scope, SCOPES), it.content),
    "true_role": lambda it: compose(_onehot(it.role, ROLES), it.scope_probs, it.content),
    "true_scope_and_role": lambda it: compose(_onehot(it.role, ROLES), _onehot(it.scope, SCOPES), it.content),
    "flat_content_model": lambda it: dict(it.content),
}


def _argmax(p: Mapping[str, float]) -> str:
    return max(p, key=p.__getitem__)


def _macro(gold: Sequence[str], pred: Sequence[str], names: Sequence[str]) -> float:
    return float(f1_score(gold, pred, labels=list(names), average="macro", zero_division=0))


def bootstrap_interval(
    sources: Sequence[str],
    gold: Sequence[str],
    pred: Sequence[str],
    names: Sequence[str],
    *,
    reps: int = BOOTSTRAP,
    seed: int = 0,
) -> tuple[float, float]:
    """A 95% interval of macro-F1, resampling whole documents with replacement."""
    rng = np.random.default_rng(seed)
    by_doc: dict[str, list[int]] = {}
    for i, s in enumerate(sources):
        by_doc.setdefault(s, []).append(i)
    docs = list(by_doc)
    scores = []
    for _ in range(reps):
        pick = rng.integers(0, len(docs), len(docs))
        idx = [i for k in pick for i in by_doc[docs[k]]]
        scores.append(_macro([gold[i] for i in idx], [pred[i] for i in idx], names))
    return float(np.percentile(scores, 2.5)), float(np.percentile(scores, 97.5))


def report(
    gold: Sequence[str], pred: Sequence[str], sources: Sequence[str], names: Sequence[str]
) -> dict[str, Any]:
    """Macro-F1 with its 95% interval, per-class P/R/F1, confusion matrix (rows gold, columns predicted)."""
    p, r, f, n = precision_recall_fscore_support(gold, pred, labels=list(names), zero_division=0)
    low, high = bootstrap_interval(sources, gold, pred, names)
    matrix = confusion_matrix(gold, pred, labels=list(names))
    return {
        "n": len(gold),
        "macro_f1": round(_macro(gold, pred, names), 4),
        "ci95": [round(low, 4), round(high, 4)],
        "per_class": {
            name: {
                "precision": round(float(p[k]), 3),
                "recall": round(float(r[k]), 3),
                "f1": round(float(f[k]), 3),
                "support": int(n[k]),
            }
            for k, name in enumerate(names)
        },
        "confusion": {
            name: dict(zip(names, map(int, matrix[k]), strict=True)) for k, name in enumerate(names)
        },
    }


def score_items(items: Sequence[Item]) -> dict[str, Any]:
    """The full report of one evaluation set (module docstring)."""
    sources = [it.source for it in items]
    gold = [it.label for it in items]
    out: dict[str, Any] = {
        "label": report(gold, [_argmax(VARIANTS["composed"](it)) for it in items], sources, LABELS)
    }
    out["role"] = report([it.role for it in items], [_argmax(it.role_probs) for it in items], sources, ROLES)
    docs = {it.source: it for it in items}
    scope_gold = [it.scope for it in docs.values()]
    scope_pred = [_argmax(it.scope_probs) for it in docs.values()]
    out["scope"] = {
        "documents": len(docs),
        "accuracy": round(float(np.mean([g == p for g, p in zip(scope_gold, scope_pred, strict=True)])), 4),
        "wrong": {
            s: {"gold": it.scope, "predicted": _argmax(it.scope_probs)}
            for s, it in docs.items()
            if it.scope != _argmax(it.scope_probs)
        },
    }
    out["ablation"] = {}
    for name, fn in VARIANTS.items():
        pred = [_argmax(fn(it)) for it in items]
        low, high = bootstrap_interval(sources, gold, pred, LABELS, reps=300)
        out["ablation"][name] = {
            "macro_f1": round(_macro(gold, pred, LABELS), 4),
            "ci95": [round(low, 4), round(high, 4)],
        }
    by_conf: dict[str, list[int]] = {}
    for i, it in enumerate(items):
        if it.confidence:
            by_conf.setdefault(it.confidence, []).append(i)
    composed = [_argmax(VARIANTS["composed"](it)) for it in items]
    out["by_confidence"] = {
        c: {
            "n": len(idx),
            "macro_f1": round(_macro([gold[i] for i in idx], [composed[i] for i in idx], LABELS), 4),
        }
        for c, idx in sorted(by_conf.items())
    }
    return out
