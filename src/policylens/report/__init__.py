"""The report stage: a ranking and its documents' tagged sentences as one self-contained HTML file.

Public API (imported lazily, so ``import policylens.report`` does not load jinja2)::

    write_report(path, scores, tagged, *, title="policylens ranking", settings=None) -> None
    render_report(scores, tagged, *, title=..., settings=None, generated=None) -> str
    ReportSettings  # how many sentences per document the page shows
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from policylens.report.html import render_report, write_report
    from policylens.report.settings import ReportSettings

__all__ = ["ReportSettings", "render_report", "write_report"]


def __getattr__(name: str) -> Any:
    if name in ("render_report", "write_report"):
        from policylens.report import html

        return getattr(html, name)
    if name == "ReportSettings":
        from policylens.report.settings import ReportSettings

        return ReportSettings
    raise AttributeError(f"module 'policylens.report' has no attribute {name!r}")
