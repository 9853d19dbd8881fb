"""``policylens_role``: the role of each sentence (codebook v2.0, section 2).

A sentence is ``architecture`` (who governs AI, how rule-making is organised),
``provision`` (a substantive rule: a duty, prohibition, right, penalty) or
``other``. The role hangs on the modal and on who bears the duty, and often on
context: a list item inherits its lead-in, a heading is ``other``, the clauses
under "Definitions" or "Authorization of appropriations" are ``other`` whatever
their modal. So besides the sentence's own features (the n-grams and cues that
``features.py`` computes for the content model) the role model sees:

* ``r:`` the sentence's shape: modals ("shall", "must", "may not", "should"),
  an enumerator at its start, a closing colon, upper case, a heading;
* ``fw:`` its first words after any enumerator (the duty bearer: "providers
  shall", "the Secretary shall", "nothing in this");
* ``bm:``/``am:`` the word before its first modal and the verb after it (who is
  bound, and to do what: "providers shall label", "the office shall coordinate");
* ``pw:`` the words of the previous sentence and ``ctx:`` its shape (a lead-in
  ending in ":" passes its sense on to the list that follows);
* ``sw:`` the words of the section heading the sentence sits under;
* ``cp:`` the content model's probabilities (``policylens_governance`` runs first):
  a sentence whose words favour a design is seldom ``other``.

The previous sentence of a block's first sentence and the section heading come
from ``doc.user_data`` (``CONTEXT``), which ``pipeline.tag_blocks`` fills from
the blocks around it. Results go to ``doc._.roles``: ``(start, end, probs)`` per
sentence, like ``doc._.governance``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from spacy.language import Language
from spacy.tokens import Doc, Span

from policylens.labels import ROLES
from policylens.nlp.batching import BatchedComponent
from policylens.nlp.features import FEATURE_CACHE, doc_features, to_matrix
from policylens.nlp.model import LinearModel, resolve_model_dir
from policylens.nlp.segment import HEADING_FLAG

EXTENSION = "roles"
#: ``doc.user_data`` key of a block's context: ``{"prev": text before the block, "section": heading}``.
CONTEXT = "policylens_context"
#: ``doc.user_data`` key of the text the doc was made from (``Doc.text`` re-joins every token).
TEXT = "policylens_text"
ROLE_FILE = "role.json"

_WORD = re.compile(r"[a-z][a-z\-']+")
_ENUMERATOR = re.compile(
    r"^\s*(?:\(?[0-9ivxlcA-Za-z]{1,5}[.)]|\([0-9ivxlcA-Za-z]{1,5}\)|§+\s*[\d.]+|"
    r"(?:section|sec\.|article|art\.)\s+[\w.\-]+[.:]?)\s*",
    re.IGNORECASE,
)
_MODALS = (
    ("shall not", "shall_not"),
    ("must not", "must_not"),
    ("may not", "may_not"),
    ("shall", "shall"),
    ("must", "must"),
    ("should", "should"),
    ("may", "may"),
    ("will", "will"),
    ("is prohibited", "prohibited"),
    ("are prohibited", "prohibited"),
    ("is required to", "required"),
    ("are required to", "required"),
)
_MODAL_ANY = re.compile(r"\b(?:" + "|".join(phrase for phrase, _ in _MODALS) + r")\b")
_MODAL_WORDS = frozenset({"shall", "must", "may", "should", "will"})
#: Words kept from the previous sentence and the heading; the rest of their vocabulary is noise.
_CONTEXT_WORDS = 12


@dataclass(frozen=True)
class RoleModel(LinearModel):
    """A sentence's role: ``architecture`` / ``provision`` / ``other``."""

    FORMAT: ClassVar[str] = "policylens-role"
    FORMAT_VERSION: ClassVar[int] = 1
    FILE: ClassVar[str] = ROLE_FILE
    LABELS: ClassVar[tuple[str, ...]] = ROLES
    KIND: ClassVar[str] = "role"


def _words(text: str, limit: int | None = None) -> list[str]:
    words = _WORD.findall(text.lower())
    return words if limit is None else words[:limit]


def shape(text: str) -> tuple[str, ...]:
    """Modals, enumerator, colon, case: what makes a sentence read as a rule or a lead-in."""
    names: list[str] = []
    found = {m.group(0) for m in _MODAL_ANY.finditer(text.lower())}
    found |= {phrase.split()[0] for phrase in found if phrase.endswith(" not")}  # "shall not" has "shall"
    names += ["modal:" + name for phrase, name in _MODALS if phrase in found]
    stripped = text.strip()
    if _ENUMERATOR.match(stripped):
        names.append("enum")
    if stripped.endswith(":"):
        names.append("colon")
    elif stripped.endswith((";", "; and", "; or", ", and", ", or")):
        names.append("semicolon")
    if not stripped.islower():  # cheap test first: most sentences have lower-case letters only
        letters = sum(map(str.isalpha, stripped))
        if letters and sum(map(str.isupper, stripped)) > 0.8 * letters:
            names.append("upper")
    if stripped and stripped[-1] not in ".;:!?)\"'" and len(stripped.split()) <= 12:
        names.append("unfinished")
    return tuple(dict.fromkeys(names))


def context_features(text: str, prev: str, section: str, *, heading: bool,
                     shapes: tuple[tuple[str, ...], tuple[str, ...]] | None = None,
                     prev_tail: list[str] | None = None, section_words: list[str] | None = None,
                     ) -> dict[str, float]:
    """The role-specific features of one sentence given its previous sentence and heading
    (``shapes``, ``prev_tail``, ``section_words``: parts a caller reading a whole block
    already has — ``shape`` of both sentences, ``tail_words(prev)``, the heading's words)."""
    own, before = shapes if shapes is not None else (shape(text), shape(prev) if prev else ())
    feats: dict[str, float] = {"r:" + name: 1.0 for name in own}
    if heading:
        feats["r:heading"] = 1.0
    body = _ENUMERATOR.sub("", text.strip(), count=1)
    words = _words(body, 60)
    for i, word in enumerate(words):
        # Who bears the modal and what it obliges: "providers shall label" reads as a
        # provision, "the office shall coordinate" as architecture.
        if word in _MODAL_WORDS:
            if i:
                feats["bm:" + words[i - 1]] = 1.0
            after = [w for w in words[i + 1:i + 3] if w not in ("not", "be", "also")]
            if after:
                feats["am:" + after[0]] = 1.0
            break
    first = words[:3]
    for i, word in enumerate(first):
        feats[f"fw{i}:{word}"] = 1.0
    if len(first) >= 2:
        feats["fw:" + " ".join(first[:2])] = 1.0
    if prev:
        for name in before:
            feats["ctx:" + name] = 1.0
        for word in prev_tail if prev_tail is not None else tail_words(prev):
            feats["pw:" + word] = 1.0
    else:
        feats["ctx:none"] = 1.0
    for word in section_words if section_words is not None else _words(section, _CONTEXT_WORDS):
        feats["sw:" + word] = 1.0
    return feats


def tail_words(text: str) -> list[str]:
    """The last words of a sentence, as the next sentence's context reads them."""
    return _words(text[-300:])[-_CONTEXT_WORDS:]


def content_features(probs: Mapping[str, float]) -> dict[str, float]:
    """The content model's verdict as role features: words that favour a design are rarely ``other``."""
    return {"cp:" + label: float(p) for label, p in probs.items()}


def role_rows(
    doc: Doc, sents: list[Span], base: list[dict[str, float]] | None = None
) -> list[dict[str, float]]:
    """The role model's features of each sentence of ``doc`` (``base``: its content features)."""
    base = base if base is not None else doc_features(doc, [(s.start, s.end) for s in sents])
    context: Mapping[str, Any] = doc.user_data.get(CONTEXT) or {}
    section = str(context.get("section") or "")
    prev = str(context.get("prev") or "")
    heading = bool(doc.user_data.get(HEADING_FLAG))
    rows: list[dict[str, float]] = []
    before = shape(prev) if prev else ()
    before_tail = tail_words(prev) if prev else []
    section_words = _words(section, _CONTEXT_WORDS)
    whole = doc.user_data.get(TEXT) or doc.text  # Doc.text joins every token: never per sentence
    for sent, feats in zip(sents, base, strict=True):
        text = whole[sent.start_char:sent.end_char]  # == sent.text
        own = shape(text)  # computed once: it is also the next sentence's context
        row = dict(feats)
        row.update(context_features(text, prev, section, heading=heading, shapes=(own, before),
                                    prev_tail=before_tail, section_words=section_words))
        rows.append(row)
        prev, before, before_tail = text, own, tail_words(text)
    return rows


def register_extensions() -> None:
    """The ``Doc._.roles`` slot."""
    if not Doc.has_extension(EXTENSION):
        Doc.set_extension(EXTENSION, default=None)


class RoleClassifier(BatchedComponent):
    """Applies a ``RoleModel`` to every sentence of a doc."""

    def __init__(self, model: RoleModel) -> None:
        self.model = model

    def _predict(self, docs: list[Doc]) -> None:
        rows: list[dict[str, float]] = []
        owners: list[tuple[int, int, int]] = []
        for i, doc in enumerate(docs):
            sents = list(doc.sents) if doc.has_annotation("SENT_START") else [doc[:]]
            doc_rows = role_rows(doc, sents, doc.user_data.get(FEATURE_CACHE))
            content = doc._.governance if Doc.has_extension("governance") else None
            if content is not None and len(content) == len(doc_rows):  # the content model ran first
                for row, (_, _, probs) in zip(doc_rows, content, strict=True):
                    row.update(content_features(probs))
            rows.extend(doc_rows)
            owners.extend((i, s.start, s.end) for s in sents)
            doc._.roles = []
        if not rows:
            return
        probs = self.model.predict_proba(to_matrix(rows, self.model.vocabulary))
        for (owner, start, end), row in zip(owners, probs.tolist(), strict=True):
            docs[owner]._.roles.append((start, end, dict(zip(ROLES, row, strict=True))))

    def to_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> None:
        Path(path).mkdir(parents=True, exist_ok=True)
        self.model.save(Path(path))

    def from_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> RoleClassifier:
        self.model = RoleModel.load(path)
        return self


@Language.factory("policylens_role", default_config={"model": None})
def make_role(nlp: Language, name: str, *, model: str | None) -> RoleClassifier:
    """Factory of the role classifier; ``model`` is a model folder (default: the bundled one)."""
    register_extensions()
    return RoleClassifier(RoleModel.load(resolve_model_dir(model)))


def sentence_roles(doc: Doc) -> list[tuple[int, int, dict[str, float]]]:
    """The ``(start, end, probs)`` triples the component stored on ``doc``."""
    return list(doc._.roles or [])
