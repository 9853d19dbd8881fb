"""Compare two versions of one framework: what was added, removed and relabelled.

Sentences are aligned by their normalised text (lower case, punctuation and
spacing ignored) with ``difflib`` over the two sentence sequences. Inside a
replaced stretch, sentences are paired when their texts are similar enough
(``similarity`` ratio); a pair, or an identical sentence, whose label changed
is *relabelled*; a similar pair with the same label is *reworded*; the rest
are *added* or *removed*.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from policylens.labels import Label
from policylens.nlp.types import TaggedDocument, TaggedSentence
from policylens.rank.index import approach_probs, centralization_index

_NON_WORD = re.compile(r"[\W_]+")


def normalise(text: str) -> str:
    """Text as compared: lower case, runs of punctuation and spacing become one space."""
    return _NON_WORD.sub(" ", text.lower()).strip()


@dataclass(frozen=True, slots=True)
class SentenceRef:
    """One sentence of one side of a diff."""

    text: str
    label: Label
    page: int | None
    lean: float  # P(centralized) - P(sector_specific)

    @classmethod
    def of(cls, s: TaggedSentence) -> SentenceRef:
        return cls(text=s.text, label=s.label, page=s.page, lean=s.lean)

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "label": self.label, "page": self.page, "lean": round(self.lean, 4)}


@dataclass(frozen=True, slots=True)
class SentenceChange:
    """A sentence present on both sides (identical or similar) whose label or wording changed."""

    old: SentenceRef
    new: SentenceRef
    similarity: float  # 1.0 when the normalised texts are identical

    def to_dict(self) -> dict[str, Any]:
        return {"old": self.old.to_dict(), "new": self.new.to_dict(),
                "similarity": round(self.similarity, 4)}


@dataclass(frozen=True, slots=True)
class FrameworkDiff:
    """How a framework changed between two versions, and how its index moved."""

    old_doc: str
    new_doc: str
    old_index: float
    new_index: float
    added: tuple[SentenceRef, ...]
    removed: tuple[SentenceRef, ...]
    relabelled: tuple[SentenceChange, ...]
    reworded: tuple[SentenceChange, ...]
    unchanged: int

    @property
    def delta(self) -> float:
        return self.new_index - self.old_index

    def to_dict(self) -> dict[str, Any]:
        return {
            "old_doc": self.old_doc,
            "new_doc": self.new_doc,
            "old_index": round(self.old_index, 4),
            "new_index": round(self.new_index, 4),
            "delta": round(self.delta, 4),
            "unchanged": self.unchanged,
            "added": [s.to_dict() for s in self.added],
            "removed": [s.to_dict() for s in self.removed],
            "relabelled": [c.to_dict() for c in self.relabelled],
            "reworded": [c.to_dict() for c in self.reworded],
        }


def diff(old: TaggedDocument, new: TaggedDocument, *, similarity: float = 0.6,
         prior: float = 1.0) -> FrameworkDiff:
    """Align the sentences of two versions of one framework and classify every change."""
    a, b = old.sentences, new.sentences
    keys_a, keys_b = [normalise(s.text) for s in a], [normalise(s.text) for s in b]
    matcher = difflib.SequenceMatcher(None, keys_a, keys_b, autojunk=False)
    added: list[SentenceRef] = []
    removed: list[SentenceRef] = []
    relabelled: list[SentenceChange] = []
    reworded: list[SentenceChange] = []
    unchanged = 0
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            for x, y in zip(a[i1:i2], b[j1:j2], strict=True):
                if x.label != y.label:
                    relabelled.append(SentenceChange(SentenceRef.of(x), SentenceRef.of(y), 1.0))
                else:
                    unchanged += 1
            continue
        pairs, lone_a, lone_b = _pair_similar(a[i1:i2], b[j1:j2], keys_a[i1:i2], keys_b[j1:j2],
                                              similarity)
        for x, y, ratio in pairs:
            change = SentenceChange(SentenceRef.of(x), SentenceRef.of(y), ratio)
            (relabelled if x.label != y.label else reworded).append(change)
        removed.extend(SentenceRef.of(x) for x in lone_a)
        added.extend(SentenceRef.of(y) for y in lone_b)
    return FrameworkDiff(
        old_doc=old.source,
        new_doc=new.source,
        old_index=centralization_index(*approach_probs(a), prior=prior),
        new_index=centralization_index(*approach_probs(b), prior=prior),
        added=tuple(added),
        removed=tuple(removed),
        relabelled=tuple(relabelled),
        reworded=tuple(reworded),
        unchanged=unchanged,
    )


def _pair_similar(a: Sequence[TaggedSentence], b: Sequence[TaggedSentence], keys_a: list[str],
                  keys_b: list[str], threshold: float
                  ) -> tuple[list[tuple[TaggedSentence, TaggedSentence, float]],
                             list[TaggedSentence], list[TaggedSentence]]:
    """Greedy best-first pairing of similar sentences, keeping reading order within each side."""
    candidates = []
    for i, ka in enumerate(keys_a):
        for j, kb in enumerate(keys_b):
            matcher = difflib.SequenceMatcher(None, ka, kb, autojunk=False)
            # the cheap upper bounds first: a rewritten bill can pit thousands of sentences
            if matcher.real_quick_ratio() < threshold or matcher.quick_ratio() < threshold:
                continue
            ratio = matcher.ratio()
            if ratio >= threshold:
                candidates.append((ratio, i, j))
    candidates.sort(key=lambda t: (-t[0], t[1], t[2]))
    used_a: set[int] = set()
    used_b: set[int] = set()
    chosen: list[tuple[int, int, float]] = []
    for ratio, i, j in candidates:
        if i in used_a or j in used_b:
            continue
        # keep pairs monotone, so a moved paragraph is not read as many edits
        if any((i - pi) * (j - pj) < 0 for pi, pj, _ in chosen):
            continue
        used_a.add(i)
        used_b.add(j)
        chosen.append((i, j, ratio))
    chosen.sort()
    pairs = [(a[i], b[j], ratio) for i, j, ratio in chosen]
    return (pairs, [x for i, x in enumerate(a) if i not in used_a],
            [y for j, y in enumerate(b) if j not in used_b])
