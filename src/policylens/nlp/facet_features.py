"""Document features for the document facet models, from a tagged document's sentences.

Training (``train_facets``) and prediction (``document_facets``) both call
``document_features``, so a model sees at prediction exactly what it was
trained on. Two kinds of features:

* **words**: the document's words in a fixed vocabulary, weighted
  ``(1 + ln count) * idf`` and scaled to unit length (TF-IDF);
* **mentions**: for each facet value, how many sentences the span matchers
  (``policylens_facets``, domain mentions) found it in, as the six numbers of
  ``MENTION_FEATURES``.

Words are lower-cased runs of two or more letters, so the features need no
spaCy model and cost little beside tagging.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np

from policylens.errors import ModelError
from policylens.nlp.types import TaggedSentence

_WORD: Final = re.compile(r"[a-z][a-z]+")

#: What each of a label's mention features measures (``n``: sentences that mention the label's
#: facets; ``top``: the most sentences any single value of the same kind has in the document).
MENTION_FEATURES: Final[tuple[str, ...]] = (
    "log(1 + n)",
    "n / top",
    "sqrt(n / sentences)",
    "n >= 2",
    "n >= 1",
    "n == top",
)


def words(text: str) -> list[str]:
    """The lower-cased words (two or more letters) of ``text``.

    >>> words("The FDA's 2024 AI-device rule, e.g. for X-rays.")
    ['the', 'fda', 'ai', 'device', 'rule', 'for', 'rays']
    """
    return _WORD.findall(text.lower())


@dataclass(frozen=True)
class Vocabulary:
    """The words a facet model reads, with their inverse document frequencies."""

    words: tuple[str, ...]
    idf: np.ndarray
    index: dict[str, int] = field(init=False, repr=False, compare=False)
    version: str = field(init=False, repr=False, compare=False)  # a short hash of words and weights

    def __post_init__(self) -> None:
        if len(self.words) != len(self.idf):
            raise ModelError("facet vocabulary: words and idf differ in length")
        object.__setattr__(self, "index", {w: i for i, w in enumerate(self.words)})
        payload = json.dumps(self.to_dict()["words"])
        object.__setattr__(self, "version", hashlib.sha256(payload.encode()).hexdigest()[:12])

    def __len__(self) -> int:
        return len(self.words)

    def to_dict(self) -> dict[str, Any]:
        return {"words": [[w, round(float(v), 6)] for w, v in zip(self.words, self.idf, strict=True)]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Vocabulary:
        try:
            pairs = data["words"]
            return cls(tuple(str(w) for w, _ in pairs), np.asarray([float(v) for _, v in pairs]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"malformed facet vocabulary ({exc})") from None


@dataclass(frozen=True)
class DocumentFeatures:
    """What the facet models read from one document.

    ``terms[i]``/``counts[i]``: the vocabulary columns of sentence ``i`` and how often
    each occurs there. ``mentions[i]``: the facets (``"kind:name"``) the span
    matchers found in sentence ``i``. ``vector``: the document's TF-IDF as
    ``(columns, values)``.
    """

    n_sentences: int
    size: int  # the vocabulary's length
    terms: tuple[np.ndarray, ...]
    counts: tuple[np.ndarray, ...]
    mentions: tuple[frozenset[str], ...]
    vector: tuple[np.ndarray, np.ndarray]

    def dense(self) -> np.ndarray:
        """The TF-IDF vector as a dense array."""
        out = np.zeros(self.size)
        out[self.vector[0]] = self.vector[1]
        return out

    def sentence_matrix(self) -> Any:
        """Sentences x vocabulary, 1 where the sentence has the word (a SciPy CSR matrix)."""
        from scipy import sparse

        lengths = np.fromiter((len(t) for t in self.terms), dtype=np.int64, count=len(self.terms))
        indptr = np.concatenate([[0], np.cumsum(lengths)])
        cols = np.concatenate(self.terms) if self.terms else np.zeros(0, dtype=np.int64)
        return sparse.csr_matrix((np.ones(len(cols)), cols, indptr), shape=(len(self.terms), self.size))

    def mention_counts(self) -> dict[str, int]:
        """Facet -> number of sentences that mention it."""
        counts: dict[str, int] = {}
        for found in self.mentions:
            for name in found:
                counts[name] = counts.get(name, 0) + 1
        return counts

    def mention_features(self, matches: Sequence[str], counts: Mapping[str, int] | None = None) -> np.ndarray:
        """The ``MENTION_FEATURES`` of a label that ``matches`` (facets) are evidence for.

        ``n`` counts sentences mentioning any of ``matches``; a label without
        matches has all six at zero.
        """
        if not matches:
            return np.zeros(len(MENTION_FEATURES))
        counts = counts if counts is not None else self.mention_counts()
        wanted = set(matches)
        if len(wanted) == 1:
            n = counts.get(matches[0], 0)
        else:  # a sentence naming two of the matches counts once
            n = sum(1 for found in self.mentions if found & wanted)
        kinds = {m.split(":", 1)[0] for m in matches}
        top = max([v for k, v in counts.items() if k.split(":", 1)[0] in kinds] + [n])
        return np.array([
            math.log1p(n),
            n / top if top else 0.0,
            math.sqrt(n / self.n_sentences) if self.n_sentences else 0.0,
            float(n >= 2),
            float(n >= 1),
            float(n > 0 and n == top),
        ])


def sentence_mentions(sentence: TaggedSentence) -> frozenset[str]:
    """The sector and instrument facets of a tagged sentence, as ``"kind:name"``."""
    f = sentence.facets
    return frozenset([*(f"sector:{s}" for s in f.sector), *(f"instrument:{i}" for i in f.instrument)])


def document_features(sentences: Iterable[TaggedSentence], vocabulary: Vocabulary) -> DocumentFeatures:
    """The features of a document from its tagged sentences (text and span-matcher facets)."""
    index = vocabulary.index
    terms: list[np.ndarray] = []
    counts: list[np.ndarray] = []
    mentions: list[frozenset[str]] = []
    for sentence in sentences:
        hits = [(index[w], n) for w, n in Counter(words(sentence.text)).items() if w in index]
        terms.append(np.array([c for c, _ in hits], dtype=np.int64))
        counts.append(np.array([n for _, n in hits], dtype=np.float64))
        mentions.append(sentence_mentions(sentence))
    tf = (np.bincount(np.concatenate(terms), weights=np.concatenate(counts), minlength=len(vocabulary))
          if terms else np.zeros(len(vocabulary)))
    cols = np.flatnonzero(tf)
    values = (1.0 + np.log(tf[cols])) * vocabulary.idf[cols]
    norm = float(np.sqrt(np.dot(values, values)))
    if norm > 0:
        values = values / norm
    return DocumentFeatures(len(mentions), len(vocabulary), tuple(terms), tuple(counts), tuple(mentions),
                            (cols, values))
