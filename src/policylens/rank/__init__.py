"""The ranking stage: tagged documents -> centralization index, interval, evidence, rankings.

Public API: ``score``, ``rank``, ``analyze`` (extract + tag + score one file) and
``diff`` (two versions of one framework). scikit-learn is only imported when
the ``classifier`` method is used.
"""

from __future__ import annotations

from policylens.rank.analysis import Analysis, analyze
from policylens.rank.compare import FrameworkDiff, diff
from policylens.rank.scoring import DEFAULT_METHOD, METHODS, rank, score
from policylens.rank.types import Evidence, FrameworkScore

__all__ = ["DEFAULT_METHOD", "METHODS", "Analysis", "Evidence", "FrameworkDiff", "FrameworkScore",
           "analyze", "diff", "rank", "score"]
