"""Wordscores (Laver, Benoit & Garry 2003): unsupervised scaling from reference texts.

Reference texts with known positions (here the most centralized and the most
sector-specific training frameworks, at +1 and -1) give every word a score:
the position of the references weighted by how much more often each uses the
word. A new text's raw score is the frequency-weighted mean score of its
scored words. Raw scores bunch near the middle (shared vocabulary), so they are
stretched linearly so that the references' mean raw scores land on +1 and -1,
then clipped to [-1, 1].

Tokens are lower-case words of three letters or more; a word must occur in at
least ``min_docs`` reference texts, which keeps fictional place names and
one-off words out of the dictionary.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np

from policylens.errors import ModelError
from policylens.rank.model_file import read_model, write_model

FORMAT: Final[str] = "policylens-wordscores/1"
_WORD = re.compile(r"[a-z][a-z\-]{2,}")


def tokens(text: str) -> list[str]:
    return _WORD.findall(text.lower())


class Wordscores:
    """Word scores learned from reference texts; ``fit`` then ``position``."""

    def __init__(self, min_docs: int = 2) -> None:
        self.min_docs = min_docs

    def fit(self, texts: Sequence[str], positions: Sequence[float]) -> Wordscores:
        if len(texts) != len(positions) or len(texts) < 2:
            raise ValueError("need at least two reference texts, each with a position")
        counts = [Counter(tokens(t)) for t in texts]
        totals = [max(1, sum(c.values())) for c in counts]
        doc_freq = Counter(w for c in counts for w in c)
        scores: dict[str, float] = {}
        a = np.asarray(positions, dtype=float)
        for word, df in doc_freq.items():
            if df < self.min_docs:
                continue
            rel = np.array([c.get(word, 0) / n for c, n in zip(counts, totals, strict=True)])
            scores[word] = float(rel @ a / rel.sum())
        self.scores_ = scores
        raw = np.array([self.raw(t) for t in texts])
        self.anchor_high_ = float(raw[a > 0].mean()) if (a > 0).any() else 1.0
        self.anchor_low_ = float(raw[a < 0].mean()) if (a < 0).any() else -1.0
        if self.anchor_high_ <= self.anchor_low_:
            raise ValueError("reference texts do not separate: choose more distinct references")
        return self

    def sentence_sums(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Per text: the sum of its scored words' scores and how many words were scored."""
        sums = np.zeros(len(texts))
        n = np.zeros(len(texts))
        for i, text in enumerate(texts):
            for word in tokens(text):
                score = self.scores_.get(word)
                if score is not None:
                    sums[i] += score
                    n[i] += 1
        return sums, n

    def raw(self, text: str) -> float:
        sums, n = self.sentence_sums([text])
        return float(sums[0] / n[0]) if n[0] else 0.0

    def rescale(self, raw: np.ndarray | float) -> np.ndarray:
        """Map raw scores so that the reference anchors sit at -1 and +1; clip to the axis."""
        mid = (self.anchor_high_ + self.anchor_low_) / 2
        half = (self.anchor_high_ - self.anchor_low_) / 2
        return np.clip((np.asarray(raw, dtype=float) - mid) / half, -1.0, 1.0)

    def position(self, text: str) -> float:
        return float(self.rescale(self.raw(text)))

    def to_dict(self, **extra: Any) -> dict[str, Any]:
        return {"format": FORMAT, "min_docs": self.min_docs, "anchor_low": self.anchor_low_,
                "anchor_high": self.anchor_high_,
                "scores": {w: round(s, 6) for w, s in sorted(self.scores_.items())}, **extra}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "<dict>") -> Wordscores:
        if data.get("format") != FORMAT:
            raise ModelError(f"not a wordscores file of format {FORMAT} (found {data.get('format')!r})",
                             path=source)
        try:
            model = cls(min_docs=int(data["min_docs"]))
            model.scores_ = {str(w): float(s) for w, s in data["scores"].items()}
            model.anchor_low_ = float(data["anchor_low"])
            model.anchor_high_ = float(data["anchor_high"])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ModelError(f"malformed wordscores file: {exc}", path=source) from None
        return model

    def save(self, path: Path, **extra: Any) -> None:
        write_model(path, self.to_dict(**extra))

    @classmethod
    def load(cls, path: Path) -> Wordscores:
        data = read_model(path, "wordscores model")
        return cls.from_dict(data, source=str(path))
