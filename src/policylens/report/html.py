"""The self-contained HTML report of a ranking (``policylens rank ... --report FILE.html``).

One file, no network: jinja2 templates shipped in ``report/templates``, charts as
inline SVG, styles and script inline. The ranking table is plain HTML that the
script sorts, searches and pages; each document's evidence and sentences travel
as inline JSON (``report.payload``) and are built only when the document is
opened, so 1,000 documents make a page of a few megabytes that opens at once; the
same JSON gives scripts that read the report each document's rank, title and index.
Autoescaping is on for every template because document text is untrusted, and the
JSON is written by ``payload.script_json``, which escapes ``<``, ``>`` and ``&`` so that
no value can close its ``<script>`` element or open a comment.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
from markupsafe import Markup

from policylens.atomic import write_text_atomic
from policylens.errors import ReportError
from policylens.labels import LABELS
from policylens.nlp.types import TaggedDocument
from policylens.rank.groups import Group, GroupDifference
from policylens.rank.types import FrameworkScore
from policylens.report.charts import COLOURS, heat_colour, heat_maps, lean_of, ranking_chart
from policylens.report.collection_charts import group_chart, histogram, trend_chart
from policylens.report.facet_views import Chip, chips, data_facets, facet_filters, facets_payload
from policylens.report.payload import document_payloads, script_json
from policylens.report.settings import ReportSettings

if TYPE_CHECKING:  # pragma: no cover
    from policylens.corpus.ranking import Ranking

LABEL_NAMES = {"centralized": "centralized", "sector_specific": "sector-specific", "neutral": "neutral"}


@dataclass(frozen=True, slots=True)
class TableRow:
    """One document's row in the ranking table (rendered in HTML; the page sorts and pages it)."""

    anchor: str
    title: str
    score: FrameworkScore
    lean: str
    groups: tuple[Any, ...]  # the document's value for each --group-by column
    chips: tuple[Chip, ...] = ()  # its assigned sectors and instruments
    facets: str = "[]"  # JSON list of its assigned "family:value" keys, for the facet filter


def write_report(path: Path, scores: Sequence[FrameworkScore], tagged: Mapping[str, TaggedDocument], *,
                 title: str = "policylens ranking",
                 settings: ReportSettings | Mapping[str, Any] | None = None,
                 collection: Ranking | None = None) -> None:
    """Write the ranking of ``scores`` with each document's tagged sentences to ``path``.

    ``tagged`` maps ``FrameworkScore.doc`` to that document's ``TaggedDocument``; a
    document missing from it is still ranked, with a note instead of its sentences.
    ``collection`` (a ``Ranking``) adds its metadata groups and comparisons.
    The file is written atomically (a temporary file in the same folder, then a rename).
    """
    path = Path(path)
    html = render_report(scores, tagged, title=title, settings=settings, collection=collection)
    try:
        write_text_atomic(path, html)
    except OSError as exc:
        raise ReportError(f"cannot write the report: {exc.strerror or exc}; check that the folder "
                          "exists and is writable", path=str(path)) from None


def render_report(scores: Sequence[FrameworkScore], tagged: Mapping[str, TaggedDocument], *,
                  title: str = "policylens ranking",
                  settings: ReportSettings | Mapping[str, Any] | None = None,
                  generated: datetime | None = None, collection: Ranking | None = None) -> str:
    """The report as one HTML string (``write_report`` without the file)."""
    from policylens import __version__

    cfg = ReportSettings.resolve(settings)
    ordered = _ranked(scores)
    anchors = [f"doc-{i + 1}" for i in range(len(ordered))]
    titles = [_title(score, tagged.get(score.doc)) for score in ordered]
    specs = collection.group_by if collection is not None else ()
    metadata = _metadata_by_doc(collection)
    rows = [TableRow(anchor=anchors[i], title=titles[i], score=score, lean=lean_of(score.index),
                     groups=tuple(spec.value_of(metadata.get(score.doc, {})) for spec in specs),
                     chips=chips(score), facets=data_facets(score))
            for i, score in enumerate(ordered)]
    small = len(ordered) <= cfg.max_chart_documents
    models = sorted({s.model_version for s in ordered if s.model_version}
                    | {t.model_version for t in tagged.values() if t.model_version})
    methods = sorted({s.method for s in ordered})
    when = (generated or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    return _environment().get_template("report.html.j2").render(
        title=title,
        scores=ordered,
        rows=rows,
        overview=overview(ordered, tagged),
        histogram=histogram(ordered),
        chart=ranking_chart(ordered, titles, anchors) if small else None,
        heat_maps=heat_maps(ordered, titles, anchors) if small else None,
        group_sections=_group_sections(collection),
        group_columns=[spec.name for spec in specs],
        filters=facet_filters(ordered),
        has_facets=any(s.document_facets for s in ordered),
        data=script_json(report_data(ordered, tagged, rows, cfg, specs)),
        colours=COLOURS,
        settings=cfg,
        version=__version__,
        models=models,
        methods=methods,
        generated=when,
        label_names=LABEL_NAMES,
        file_name=lambda doc: Path(doc).name,
        fmt_value=_fmt_value,
    )


@dataclass(frozen=True, slots=True)
class GroupSection:
    """One --group-by column: its chart, a trend chart when grouped by year, its table and comparisons."""

    by: str
    groups: tuple[Group, ...]
    chart: Markup
    trend: Markup | None
    comparisons: tuple[GroupDifference, ...]


def _group_sections(collection: Ranking | None) -> list[GroupSection]:
    if collection is None:
        return []
    sections = []
    for spec in collection.group_by:
        groups = tuple(g for g in collection.groups if g.by == spec.name)
        sections.append(GroupSection(
            by=spec.name, groups=groups, chart=group_chart(groups),
            trend=trend_chart(groups) if spec.transform == "year" else None,
            comparisons=tuple(c for c in collection.comparisons if c.by == spec.name)))
    return sections


@dataclass(frozen=True, slots=True)
class Overview:
    """The collection at a glance."""

    documents: int
    sentences: int
    counts: Mapping[str, int]
    leans: Mapping[str, int]  # documents leaning each way (|index| <= 0.1 counts as balanced)
    scopes: Mapping[str, int]
    silent: int  # documents whose interval is the whole axis: no governance language to speak of
    mean: float
    median: float


def overview(scores: Sequence[FrameworkScore], tagged: Mapping[str, TaggedDocument]) -> Overview:
    indices = sorted(s.index for s in scores)
    n = len(indices)
    median = (indices[n // 2] if n % 2 else (indices[n // 2 - 1] + indices[n // 2]) / 2) if n else 0.0
    leans: dict[str, int] = {label: sum(1 for s in scores if lean_of(s.index) == label) for label in LABELS}
    scopes: dict[str, int] = {}
    for s in scores:
        scopes[s.scope.label] = scopes.get(s.scope.label, 0) + 1
    return Overview(documents=n, sentences=sum(s.n_sentences for s in scores),
                    counts={label: sum(int(s.counts.get(label, 0)) for s in scores) for label in LABELS},
                    leans=leans, scopes=scopes,
                    silent=sum(1 for s in scores if s.ci_low <= -0.999 and s.ci_high >= 0.999),
                    mean=sum(indices) / n if n else 0.0, median=median)


def _metadata_by_doc(collection: Ranking | None) -> dict[str, Mapping[str, Any]]:
    if collection is None:
        return {}
    return {d.score.doc: d.metadata for d in collection.documents}


def _fmt_value(value: Any) -> str:
    return "(none)" if value is None else str(value)


def report_data(ordered: Sequence[FrameworkScore], tagged: Mapping[str, TaggedDocument],
                rows: Sequence[TableRow], cfg: ReportSettings, specs: Sequence[Any]) -> dict[str, Any]:
    """What the report embeds as JSON (``<script type="application/json" id="policylens-data">``).

    Per document, for scripts that read the report: ``rank``, ``doc``, ``title``, ``anchor``,
    ``index``, ``ci_low``, ``ci_high``, ``n_sentences``, ``scope`` and ``model_version``; and
    what the page builds a document's section from when it is opened: counts ``k``, pages
    ``pg``, whether its sentences were available (``found``), the user's scope override
    ``scope_overridden``, its group values ``m``, its document facets ``df``
    (``facet_views.facets_payload``) and its sentences (``report.payload``).
    """
    sentences = document_payloads(ordered, tagged, cfg)
    documents = []
    for score, row, payload in zip(ordered, rows, sentences, strict=True):
        t = tagged.get(score.doc)
        documents.append({
            "rank": score.rank, "doc": score.doc, "title": row.title, "anchor": row.anchor,
            "index": round(score.index, 4), "ci_low": round(score.ci_low, 4),
            "ci_high": round(score.ci_high, 4), "n_sentences": score.n_sentences,
            "scope": score.scope.label, "model_version": score.model_version,
            "scope_overridden": score.scope.overridden,
            "k": [int(score.counts.get(label, 0)) for label in LABELS],
            "pg": t.n_pages if t is not None else 0, "found": t is not None,
            "m": [[spec.name, _fmt_value(v)] for spec, v in zip(specs, row.groups, strict=True)],
            "df": facets_payload(score),
            **payload,
        })
    return {"documents": documents, "open": len(ordered) if len(ordered) <= cfg.open_documents else 0,
            "pageSize": cfg.page_size, "maxChars": cfg.max_chars,
            "limits": {"governance": cfg.max_governance, "neutral": cfg.max_neutral}}


@functools.cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("policylens.report", "templates"),
        autoescape=True,  # every template, whatever its extension: document text is untrusted
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["heat"] = heat_colour
    env.filters["pct"] = _pct
    env.filters["facet_name"] = lambda name: str(name).replace("_", " ")
    return env


def _pct(value: float) -> str:
    if value <= 0:
        return "0"
    return "<1%" if value < 0.01 else f"{value:.0%}"


def _ranked(scores: Sequence[FrameworkScore]) -> list[FrameworkScore]:
    """Most centralized first: by rank when every score has one, else by index."""
    if scores and all(s.rank is not None for s in scores):
        return sorted(scores, key=lambda s: (s.rank, -s.index))
    ordered = sorted(scores, key=lambda s: (-s.index, s.doc))
    return [s if s.rank is not None else s.with_rank(i + 1) for i, s in enumerate(ordered)]


def _title(score: FrameworkScore, tagged: TaggedDocument | None) -> str:
    # split/join folds every Unicode space (ideographic spaces in translated titles) into one
    for candidate in (score.title, tagged.title if tagged is not None else ""):
        if candidate.strip():
            return " ".join(candidate.split())
    return Path(score.doc).name or score.doc


__all__ = ["Overview", "TableRow", "overview", "render_report", "report_data", "write_report"]
