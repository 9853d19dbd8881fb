"""Comparing groups of documents: group means with bootstrap intervals, and differences.

A group's ``index`` is the plain mean of its documents' indices (each document counts
once, whatever its length). Its interval is a percentile bootstrap over documents:
1,000 resamples of the group's documents with replacement, seeded, so a run is
reproducible. It answers "how much would this mean move with another draw of
documents like these?"; it does not include each document's own uncertainty, nor the
tagger's errors. A group of one document has no interval (``None``).

A *silent* document (no governance language to speak of: its own interval is the whole axis)
sits at index 0. It counts in its group like any other, and ``n_silent`` says how many there
are; with ``exclude_silent`` the group statistics leave them out (they stay in the ranking).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np

from policylens.errors import UsageError
from policylens.rank.types import FrameworkScore

RESAMPLES = 1000
LEVEL = 0.95
MISSING = None  # the value of the group of documents with no value in the column
_YEAR = re.compile(r"(?<!\d)(1[89]\d\d|2\d\d\d)(?!\d)")
TRANSFORMS = ("year",)


@dataclass(frozen=True, slots=True)
class GroupBy:
    """Group documents by metadata ``column``, optionally by the ``year`` of a date column.

    Written on the command line as ``COLUMN`` or ``COLUMN:year``.
    """

    column: str
    transform: str | None = None

    @property
    def name(self) -> str:
        return f"{self.column}:{self.transform}" if self.transform else self.column

    @classmethod
    def parse(cls, text: str | GroupBy) -> GroupBy:
        """``"Authority"`` or ``"Most recent activity date:year"``.

        >>> GroupBy.parse("Most recent activity date:year")
        GroupBy(column='Most recent activity date', transform='year')
        >>> GroupBy.parse("Authority").name
        'Authority'
        """
        if isinstance(text, GroupBy):
            return text
        column, sep, transform = str(text).rpartition(":")
        if sep and transform.strip().lower() in TRANSFORMS and column.strip():
            return cls(column=column.strip(), transform=transform.strip().lower())
        if not str(text).strip():
            raise UsageError("--group-by needs a column name")
        return cls(column=str(text).strip())

    def value_of(self, metadata: Mapping[str, Any]) -> Any:
        """The group value of one document (``None`` when it has none)."""
        value = metadata.get(self.column)
        if value is None or (isinstance(value, str) and not value.strip()):
            return MISSING
        if self.transform == "year":
            return year_of(value)
        if isinstance(value, float) and value.is_integer():
            return int(value)
        return value if isinstance(value, (int, float, bool)) else str(value).strip()


def year_of(value: Any) -> int | None:
    """The year of a date given as a date, a number or text ("2024-09-17", "9/17/2024", "2024").

    >>> year_of("2024-09-17"), year_of("9/17/2024"), year_of(2023), year_of("n/a")
    (2024, 2024, 2023, None)
    """
    if isinstance(value, (datetime, date)):
        return value.year
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value) if 1800 <= value < 3000 else None
    found = _YEAR.search(str(value))
    return int(found.group(1)) if found else None


@dataclass(frozen=True, slots=True)
class Group:
    """One group's mean index with its bootstrap interval and its sentence shares."""

    by: str
    value: Any
    n: int
    index: float
    ci_low: float | None
    ci_high: float | None
    share_centralized: float
    share_sector_specific: float
    n_sentences: int
    documents: tuple[str, ...] = ()  # the members' document ids
    n_silent: int = 0  # silent documents with this value (left out of n when excluded)

    @property
    def label(self) -> str:
        return "(none)" if self.value is MISSING else str(self.value)

    def to_dict(self) -> dict[str, Any]:
        r = _round
        return {"by": self.by, "value": self.value, "n": self.n, "index": r(self.index),
                "ci_low": r(self.ci_low), "ci_high": r(self.ci_high),
                "share_centralized": r(self.share_centralized),
                "share_sector_specific": r(self.share_sector_specific), "n_sentences": self.n_sentences,
                "n_silent": self.n_silent}


@dataclass(frozen=True, slots=True)
class GroupDifference:
    """``a.index - b.index`` with a bootstrap interval (each group resampled on its own)."""

    by: str
    a: Group
    b: Group
    difference: float
    ci_low: float | None
    ci_high: float | None

    def to_dict(self) -> dict[str, Any]:
        return {"by": self.by, "a": self.a.value, "b": self.b.value, "n_a": self.a.n, "n_b": self.b.n,
                "difference": _round(self.difference), "ci_low": _round(self.ci_low),
                "ci_high": _round(self.ci_high)}


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)


def is_silent(score: FrameworkScore) -> bool:
    """No governance language to speak of: the document's own interval is the whole axis."""
    return score.ci_low <= -0.999 and score.ci_high >= 0.999


def group_scores(scores: Sequence[FrameworkScore], ids: Sequence[str],
                 metadata: Mapping[str, Mapping[str, Any]], by: GroupBy | str, *,
                 exclude_silent: bool = False, seed: int = 0, resamples: int = RESAMPLES) -> list[Group]:
    """The groups of ``scores`` by ``by`` (largest first; documents without a value last).

    ``ids[i]`` is the id of ``scores[i]`` and ``metadata`` maps an id to its row. With
    ``exclude_silent``, silent documents are left out of the statistics, and a group of
    silent documents only is left out.
    """
    spec = GroupBy.parse(by)
    members: dict[Any, list[int]] = {}
    silent: dict[Any, int] = {}
    for i, doc_id in enumerate(ids):
        value = spec.value_of(metadata.get(doc_id, {}))
        if is_silent(scores[i]):
            silent[value] = silent.get(value, 0) + 1
            if exclude_silent:
                continue
        members.setdefault(value, []).append(i)
    groups = [_group(spec.name, value, [scores[i] for i in rows], [ids[i] for i in rows],
                     n_silent=silent.get(value, 0), seed=seed, resamples=resamples)
              for value, rows in members.items()]
    key: Callable[[Group], tuple[Any, ...]]
    if spec.transform == "year":  # a time line reads left to right
        key = lambda g: (g.value is MISSING, g.value if g.value is not MISSING else 0)  # noqa: E731
    else:
        key = lambda g: (g.value is MISSING, -g.n, str(g.value))  # noqa: E731
    return sorted(groups, key=key)


def _group(by: str, value: Any, scores: Sequence[FrameworkScore], ids: Sequence[str], *,
           n_silent: int, seed: int, resamples: int) -> Group:
    indices = np.array([s.index for s in scores], dtype=float)
    low, high = bootstrap_mean(indices, seed=_seed(seed, by, value), resamples=resamples)
    total = sum(s.n_sentences for s in scores)
    central = sum(int(s.counts.get("centralized", 0)) for s in scores)
    sector = sum(int(s.counts.get("sector_specific", 0)) for s in scores)
    return Group(by=by, value=value, n=len(scores), index=float(indices.mean()), ci_low=low, ci_high=high,
                 share_centralized=central / total if total else 0.0,
                 share_sector_specific=sector / total if total else 0.0, n_sentences=total,
                 documents=tuple(ids), n_silent=n_silent)


def bootstrap_mean(values: np.ndarray, *, seed: int = 0, resamples: int = RESAMPLES,
                   level: float = LEVEL) -> tuple[float | None, float | None]:
    """Percentile bootstrap interval of the mean of ``values`` (``None, None`` below two values)."""
    means = _resampled_means(values, np.random.default_rng(seed), resamples)
    if means is None:
        return None, None
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return float(low), float(high)


def _resampled_means(values: np.ndarray, rng: np.random.Generator, resamples: int) -> np.ndarray | None:
    n = len(values)
    if n < 2:
        return None
    # Multinomial counts per resample times the values: one matrix product, no Python loop.
    counts = rng.multinomial(n, np.full(n, 1.0 / n), size=resamples)
    return np.asarray(counts @ values / n)


def compare_groups(a: Group, b: Group, scores: Mapping[str, FrameworkScore], *, seed: int = 0,
                   resamples: int = RESAMPLES, level: float = LEVEL) -> GroupDifference:
    """``a`` minus ``b`` with a percentile bootstrap interval; ``scores`` maps ids to scores."""
    if a.by != b.by:
        raise UsageError(f"compare groups of one column, not {a.by!r} and {b.by!r}")
    va = np.array([scores[d].index for d in a.documents], dtype=float)
    vb = np.array([scores[d].index for d in b.documents], dtype=float)
    rng = np.random.default_rng(_seed(seed, a.by, f"{a.value}|{b.value}"))
    ma, mb = _resampled_means(va, rng, resamples), _resampled_means(vb, rng, resamples)
    low = high = None
    if ma is not None and mb is not None:
        tail = (1 - level) / 2 * 100
        low, high = (float(x) for x in np.percentile(ma - mb, [tail, 100 - tail]))
    return GroupDifference(by=a.by, a=a, b=b, difference=a.index - b.index, ci_low=low, ci_high=high)


def find_pair(groups: Sequence[Group], a: str, b: str) -> tuple[Group, Group]:
    """The groups whose values read as ``a`` and ``b`` in one ``--group-by`` column.

    ``"(none)"`` names the documents without a value.
    """
    columns = list(dict.fromkeys(g.by for g in groups))
    both = []
    for by in columns:
        labels = {g.label: g for g in groups if g.by == by}
        if a.strip() in labels and b.strip() in labels:
            both.append((labels[a.strip()], labels[b.strip()]))
    if len(both) == 1:
        return both[0]
    if both:
        raise UsageError(f"groups {a!r} and {b!r} exist in several --group-by columns "
                         f"({', '.join(p[0].by for p in both)}); group by one of them only")
    known = ", ".join(repr(g.label) for g in groups[:12]) + (" …" if len(groups) > 12 else "")
    raise UsageError(f"no --group-by column has both {a!r} and {b!r} (groups: {known})")


def _seed(seed: int, by: str, value: Any) -> int:
    # Each group draws its own stream, so adding a group never moves another group's interval.
    return seed * 1_000_003 + zlib.crc32(f"{by}\x00{value}".encode())
