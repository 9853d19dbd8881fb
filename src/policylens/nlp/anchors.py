"""A cheap test that lets a spaCy ``Matcher`` skip the docs none of its patterns can match.

A ``Matcher`` walks every token of a doc through every pattern and calls a predicate
per ``IN`` list or ``REGEX`` per token: on a long text that is slow, although most docs
hold none of the words a pattern needs. Most token patterns have one token every match
must contain, with a fixed ``LOWER`` or ``ORTH`` value (or a list of them): its
*anchor*. A doc whose tokens include no anchor of any pattern cannot match, so the
matcher is not run on it; any other doc is matched in full, so the matches are exactly
the ``Matcher``'s own.

>>> import spacy
>>> nlp = spacy.blank("en")
>>> gate = AnchorGate(nlp.vocab)
>>> gate.add([{"LOWER": "central"}, {"LOWER": {"IN": ["ai", "digital"]}, "OP": "?"}, {"LOWER": "office"}])
>>> gate.may_match(nlp("A Central AI Office.")), gate.may_match(nlp("Sector regulators."))
(True, False)
>>> gate.add([{"IS_TITLE": True, "OP": "+"}])  # no fixed word: every doc may match
>>> gate.may_match(nlp("Sector regulators."))
True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from spacy.attrs import LOWER, ORTH
from spacy.tokens import Doc
from spacy.vocab import Vocab

#: Pattern keys whose fixed values can anchor a token, and the token attribute they compare.
_ATTRS = {"LOWER": "LOWER", "ORTH": "ORTH", "TEXT": "ORTH"}


def anchor(pattern: Sequence[Mapping[str, Any]]) -> tuple[str, frozenset[str]] | None:
    """``(attribute, values)`` of a token every match of ``pattern`` must contain, or ``None``.

    Only tokens that must occur (no ``OP``, or ``"+"``) with a fixed value or an ``IN``
    list count; of those, the one with the fewest values is taken.

    >>> anchor([{"LOWER": {"IN": ["we", "it"]}}, {"LOWER": "expect", "OP": "?"}, {"ORTH": "Act"}])
    ('ORTH', frozenset({'Act'}))
    >>> anchor([{"IS_TITLE": True}, {"LOWER": "x", "OP": "*"}]) is None
    True
    """
    best: tuple[str, frozenset[str]] | None = None
    for token in pattern:
        if token.get("OP", "+") != "+":
            continue
        for key, attr in _ATTRS.items():
            value = token.get(key)
            if isinstance(value, str):
                values = frozenset([value])
            elif isinstance(value, Mapping) and set(value) == {"IN"} and isinstance(value["IN"], list):
                values = frozenset(str(v) for v in value["IN"])
            else:
                continue
            if best is None or len(values) < len(best[1]):
                best = (attr, values)
    return best


class AnchorGate:
    """The anchors of a matcher's token patterns; ``may_match`` is false only when none is in a doc."""

    def __init__(self, vocab: Vocab) -> None:
        self.vocab = vocab
        self.always = False  # a pattern without an anchor: every doc may match
        self._ids: dict[str, set[int]] = {"LOWER": set(), "ORTH": set()}

    def add(self, pattern: Sequence[Mapping[str, Any]]) -> None:
        """Note the anchor of one more pattern of the matcher."""
        found = anchor(pattern)
        if found is None:
            self.always = True
            return
        attr, values = found
        self._ids[attr].update(self.vocab.strings.add(v) for v in values)

    def may_match(self, doc: Doc) -> bool:
        """False when ``doc`` holds no anchor, so no pattern can match it."""
        if self.always:
            return True
        for attr, ids in self._ids.items():
            if ids and not ids.isdisjoint(doc.to_array(LOWER if attr == "LOWER" else ORTH).tolist()):
                return True
        return False
