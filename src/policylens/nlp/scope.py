"""The scope component: a document's instrument scope (codebook v2.0, section 1).

``horizontal`` (binding rules for AI actors across sectors), ``targeted``
(binding rules for one sector, use or service) or ``none`` (no rules of its own
for AI actors: strategies, reports, orders that only direct agencies). The
codebook decides it "from its title, its purpose and its scope or application
clauses", and who the duties fall on; so the scope model reads:

* ``t:`` the words of the title;
* ``o:`` the words of the opening sentences (purpose, scope, application);
* ``p:`` the words of the sentences the role model takes for provisions, each
  weighted by that probability (who bears the duties: providers, insurers,
  agencies, employers, platforms);
* ``a:`` the same for architecture sentences (who governs, what the text applies to);
* ``r:`` the shares of provision and architecture sentences;
* ``c:`` what the content model reads in those operative sentences (central or sector).

The model is a linear softmax (``ScopeModel``, JSON like the others), so the
sentences that decided a scope can be named: each sentence's contribution to
the winning scope's score against the others, summed over its words.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
from spacy.language import Language
from spacy.tokens import Doc

from policylens.errors import UsageError
from policylens.labels import SCOPES
from policylens.nlp.features import to_matrix
from policylens.nlp.model import LinearModel, resolve_model_dir
from policylens.nlp.role import CONTEXT
from policylens.nlp.types import ScopeDecision

SCOPE_FILE = "scope.json"
#: Sentences read as the opening (title page, purpose and scope clauses).
OPENING = 25
#: Sentences read at most: long documents do not need more to show who their duties bind.
MAX_SENTENCES = 3000
#: Sentences named as the evidence of a scope decision.
EVIDENCE = 3
#: A sentence's role probability below which it is not a candidate for that evidence.
EVIDENCE_MIN = 0.2
_WORD = re.compile(r"[a-z][a-z\-]+")


@dataclass(frozen=True)
class ScopeModel(LinearModel):
    """A document's scope: ``horizontal`` / ``targeted`` / ``none``."""

    FORMAT: ClassVar[str] = "policylens-scope"
    FORMAT_VERSION: ClassVar[int] = 1
    FILE: ClassVar[str] = SCOPE_FILE
    LABELS: ClassVar[tuple[str, ...]] = SCOPES
    KIND: ClassVar[str] = "scope"


@dataclass(frozen=True)
class ScopeInput:
    """What the scope model reads of a document: title, sentences and their role probabilities."""

    title: str
    texts: Sequence[str]
    roles: Sequence[Mapping[str, float]]  # one {role: probability} per sentence
    contents: Sequence[Mapping[str, float]] = ()  # the content model's {label: probability}, if known


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def _weighted(
    parts: list[tuple[int, set[str], float]],
    prefix: str,
    row: dict[str, float],
    shares: dict[int, dict[str, float]],
) -> None:
    """Words of sentences weighted by a probability, as shares of that probability's mass.

    Only sentences of some weight (``EVIDENCE_MIN``) are kept as candidate evidence: the others
    add to the features but could never be named as what decided the scope.
    """
    mass = sum(w for _, _, w in parts) + 1.0
    for i, words, w in parts:
        share = w / mass
        own = shares.setdefault(i, {}) if w >= EVIDENCE_MIN else None
        for word in words:
            name = prefix + word
            row[name] = row.get(name, 0.0) + share
            if own is not None:
                own[name] = own.get(name, 0.0) + share


def scope_features(doc: ScopeInput) -> tuple[dict[str, float], dict[int, dict[str, float]]]:
    """The document's feature row, and each sentence's part of it (for the evidence)."""
    row: dict[str, float] = {}
    parts: dict[int, dict[str, float]] = {}
    for word in _words(doc.title):
        row["t:" + word] = 1.0
    n = min(len(doc.texts), MAX_SENTENCES)
    words = [_words(doc.texts[i]) for i in range(n)]
    opening: dict[str, list[int]] = {}
    for i in range(min(n, OPENING)):
        for word in words[i]:
            opening.setdefault("o:" + word, []).append(i)
    for name, owners in opening.items():
        row[name] = 1.0
        for i in owners:
            parts.setdefault(i, {})[name] = 1.0 / len(owners)
    prov = [(i, words[i], float(doc.roles[i].get("provision", 0.0))) for i in range(n)]
    arch = [(i, words[i], float(doc.roles[i].get("architecture", 0.0))) for i in range(n)]
    _weighted(prov, "p:", row, parts)
    _weighted(arch, "a:", row, parts)
    if n:
        row["r:provision"] = sum(w for _, _, w in prov) / n
        row["r:architecture"] = sum(w for _, _, w in arch) / n
    if len(doc.contents) >= n and n:
        # What the operative sentences favour: a horizontal law's rules read as central, a
        # sector instrument's as sector-specific, a strategy's as neither.
        weights = [p + a for (_, _, p), (_, _, a) in zip(prov, arch, strict=True)]
        mass = sum(weights) + 1.0
        for label in ("centralized", "sector_specific"):
            row["c:" + label] = (
                sum(w * float(doc.contents[i].get(label, 0.0)) for i, w in enumerate(weights)) / mass
            )
    row["r:length"] = math.log1p(n) / 10.0
    return row, parts


def predict_scope(model: ScopeModel, doc: ScopeInput) -> ScopeDecision:
    """The scope's probabilities and the sentences that decided it."""
    row, parts = scope_features(doc)
    probs = model.predict_proba(to_matrix([row], model.vocabulary))[0]
    best = int(np.argmax(probs))
    # Each sentence's push towards the winning scope against the mean of the others.
    margin = model.coef[best] - np.delete(model.coef, best, axis=0).mean(axis=0)
    vocab = model.vocabulary
    pushes = {
        i: sum(margin[vocab[name]] * value for name, value in feats.items() if name in vocab)
        for i, feats in parts.items()
    }
    evidence = tuple(i for i, push in sorted(pushes.items(), key=lambda kv: -kv[1])[:EVIDENCE] if push > 0)
    return ScopeDecision(
        label=SCOPES[best], probs=dict(zip(SCOPES, probs.tolist(), strict=True)), evidence=evidence
    )


def override(scope: str) -> ScopeDecision:
    """A scope the user set (``--scope``, a manifest's ``scope`` field): certain, and marked as such."""
    if scope not in SCOPES:
        raise UsageError(f"scope must be one of {', '.join(SCOPES)}, not {scope!r}")
    return ScopeDecision(
        label=scope,
        probs={s: float(s == scope) for s in SCOPES},
        overridden=True,
    )


# --- the spaCy component ----------------------------------------------------------------

EXTENSION = "scope"


def register_extensions() -> None:
    """The ``Doc._.scope`` slot."""
    if not Doc.has_extension(EXTENSION):
        Doc.set_extension(EXTENSION, default=None)


class ScopeClassifier:
    """Holds a ``ScopeModel``; on a whole-document ``Doc`` it sets ``doc._.scope``.

    ``policylens tag`` reads documents block by block, so it calls ``decide`` once per
    document with every block's sentences; the component leaves block docs alone (they
    carry ``role.CONTEXT``). In a user's own pipeline, on a ``Doc`` of a whole text, it
    decides from that doc's sentences and ``doc._.roles`` (title: ``doc.user_data["title"]``).
    """

    def __init__(self, model: ScopeModel) -> None:
        self.model = model

    def decide(self, doc: ScopeInput) -> ScopeDecision:
        return predict_scope(self.model, doc)

    def __call__(self, doc: Doc) -> Doc:
        if CONTEXT in doc.user_data:
            return doc  # one block of a document that ``tag`` reads whole
        sents = list(doc.sents) if doc.has_annotation("SENT_START") else [doc[:]]
        by_start = (
            {start: probs for start, _, probs in (doc._.roles or [])} if doc.has_extension("roles") else {}
        )
        roles = [by_start.get(s.start, {}) for s in sents]
        content = (
            {start: probs for start, _, probs in (doc._.governance or [])}
            if doc.has_extension("governance")
            else {}
        )
        doc._.scope = self.decide(
            ScopeInput(
                title=str(doc.user_data.get("title", "")),
                texts=[s.text for s in sents],
                roles=roles,
                contents=[content.get(s.start, {}) for s in sents],
            )
        )
        return doc

    def to_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> None:
        Path(path).mkdir(parents=True, exist_ok=True)
        self.model.save(Path(path))

    def from_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> ScopeClassifier:
        self.model = ScopeModel.load(path)
        return self


@Language.factory("policylens_scope", default_config={"model": None})
def make_scope(nlp: Language, name: str, *, model: str | None) -> ScopeClassifier:
    """Factory of the scope classifier; ``model`` is a model folder (default: the bundled one)."""
    register_extensions()
    return ScopeClassifier(ScopeModel.load(resolve_model_dir(model)))
