"""The self-contained HTML report of a ranking (``policylens rank ... --report FILE.html``).

One file, no network: jinja2 templates shipped in ``report/templates``, charts as
inline SVG, styles inline, a few lines of inline JavaScript that only open a
document's section when its link is followed, and the ranking as JSON data.
Autoescaping is on for every template because document text is untrusted; the
JSON goes through jinja's ``tojson``, which escapes ``<``, ``>``, ``&`` and ``'``
so that no value can close its ``<script>`` element or open a comment.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from policylens.atomic import write_text_atomic
from policylens.errors import ReportError
from policylens.labels import LABELS
from policylens.nlp.types import TaggedDocument, TaggedSentence
from policylens.rank.types import Evidence, FrameworkScore
from policylens.report.charts import COLOURS, HeatMap, heat_colour, heat_maps, lean_of, ranking_chart
from policylens.report.highlight import mark_cues
from policylens.report.settings import ReportSettings

LABEL_NAMES = {"centralized": "centralized", "sector_specific": "sector-specific", "neutral": "neutral"}


@dataclass(frozen=True, slots=True)
class SentenceView:
    """One sentence as the template shows it."""

    html: Markup  # escaped text with cue marks
    label: str
    tooltip: str  # the label probabilities
    page: int | None
    facets: str  # "healthcare · legislation", may be empty
    weight: float | None = None  # signed push on the index, for evidence sentences


@dataclass(frozen=True, slots=True)
class DocumentView:
    """One document's section: its score, evidence first, then its other sentences."""

    anchor: str
    title: str
    source: str
    score: FrameworkScore
    lean: str
    found: bool  # False when the sentences of this document were not handed to the report
    n_pages: int
    evidence: tuple[SentenceView, ...]
    governance: tuple[SentenceView, ...]
    neutral: tuple[SentenceView, ...]
    hidden_governance: int
    hidden_neutral: int
    open: bool


def write_report(path: Path, scores: Sequence[FrameworkScore], tagged: Mapping[str, TaggedDocument], *,
                 title: str = "policylens ranking",
                 settings: ReportSettings | Mapping[str, Any] | None = None) -> None:
    """Write the ranking of ``scores`` with each document's tagged sentences to ``path``.

    ``tagged`` maps ``FrameworkScore.doc`` to that document's ``TaggedDocument``; a
    document missing from it is still ranked, with a note instead of its sentences.
    The file is written atomically (a temporary file in the same folder, then a rename).
    """
    path = Path(path)
    html = render_report(scores, tagged, title=title, settings=settings)
    try:
        write_text_atomic(path, html)
    except OSError as exc:
        raise ReportError(f"cannot write the report: {exc.strerror or exc}; check that the folder "
                          "exists and is writable", path=str(path)) from None


def render_report(scores: Sequence[FrameworkScore], tagged: Mapping[str, TaggedDocument], *,
                  title: str = "policylens ranking",
                  settings: ReportSettings | Mapping[str, Any] | None = None,
                  generated: datetime | None = None) -> str:
    """The report as one HTML string (``write_report`` without the file)."""
    from policylens import __version__

    cfg = ReportSettings.resolve(settings)
    ordered = _ranked(scores)
    anchors = [f"doc-{i + 1}" for i in range(len(ordered))]
    titles = [_title(score, tagged.get(score.doc)) for score in ordered]
    documents = [_document_view(score, tagged.get(score.doc), titles[i], anchors[i], cfg,
                                open_=len(ordered) <= cfg.open_documents)
                 for i, score in enumerate(ordered)]
    models = sorted({s.model_version for s in ordered if s.model_version}
                    | {t.model_version for t in tagged.values() if t.model_version})
    methods = sorted({s.method for s in ordered})
    when = (generated or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    return _environment().get_template("report.html.j2").render(
        title=title,
        scores=ordered,
        titles=titles,
        anchors=anchors,
        chart=ranking_chart(ordered, titles, anchors),
        heat_maps=heat_maps(ordered, titles, anchors),
        documents=documents,
        colours=COLOURS,
        settings=cfg,
        version=__version__,
        models=models,
        methods=methods,
        generated=when,
        label_names=LABEL_NAMES,
        lean_of=lean_of,
        file_name=lambda doc: Path(doc).name,
        data=report_data(ordered, titles, anchors),
    )


def report_data(ordered: Sequence[FrameworkScore], titles: Sequence[str],
                anchors: Sequence[str]) -> dict[str, Any]:
    """What the report embeds as JSON (``<script type="application/json" id="policylens-data">``)."""
    return {"documents": [
        {"rank": s.rank, "doc": s.doc, "title": title, "anchor": anchor, "index": round(s.index, 4),
         "ci_low": round(s.ci_low, 4), "ci_high": round(s.ci_high, 4), "n_sentences": s.n_sentences,
         "scope": s.scope.label, "model_version": s.model_version}
        for s, title, anchor in zip(ordered, titles, anchors, strict=True)]}


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


def _document_view(score: FrameworkScore, tagged: TaggedDocument | None, title: str, anchor: str,
                   cfg: ReportSettings, *, open_: bool) -> DocumentView:
    sentences: tuple[TaggedSentence, ...] = tagged.sentences if tagged is not None else ()
    by_text: dict[str, TaggedSentence] = {}
    for s in sentences:
        by_text.setdefault(_key(s.text), s)
    evidence: list[SentenceView] = []
    shown_ids: set[int] = set()
    for ev in score.evidence:
        match = by_text.get(_key(ev.text))
        if match is not None:
            shown_ids.add(match.sentence_id)
        evidence.append(_evidence_view(ev, match, cfg))
    rest = [s for s in sentences if s.sentence_id not in shown_ids]
    governance = [s for s in rest if s.label != "neutral"]
    neutral = [s for s in rest if s.label == "neutral"]
    return DocumentView(
        anchor=anchor,
        title=title,
        source=score.doc,
        score=score,
        lean=lean_of(score.index),
        found=tagged is not None,
        n_pages=tagged.n_pages if tagged is not None else 0,
        evidence=tuple(evidence),
        governance=tuple(_sentence_view(s, cfg) for s in governance[: cfg.max_governance]),
        neutral=tuple(_sentence_view(s, cfg) for s in neutral[: cfg.max_neutral]),
        hidden_governance=max(0, len(governance) - cfg.max_governance),
        hidden_neutral=max(0, len(neutral) - cfg.max_neutral),
        open=open_,
    )


def _key(text: str) -> str:
    return " ".join(text.lower().split())


def _tooltip(probs: Mapping[str, float]) -> str:
    return " · ".join(f"P({LABEL_NAMES.get(label, label)}) = {float(probs.get(label, 0.0)):.2f}"
                      for label in LABELS)


def _facets(sentence: TaggedSentence) -> str:
    f = sentence.facets
    names = [*f.sector, *f.level, *f.instrument, *f.style]
    return " · ".join(dict.fromkeys(n.replace("_", " ") for n in names))


def _sentence_view(sentence: TaggedSentence, cfg: ReportSettings) -> SentenceView:
    return SentenceView(html=mark_cues(sentence.text, sentence.cues, max_chars=cfg.max_chars),
                        label=sentence.label, tooltip=_tooltip(sentence.probs), page=sentence.page,
                        facets=_facets(sentence))


def _evidence_view(ev: Evidence, match: TaggedSentence | None, cfg: ReportSettings) -> SentenceView:
    if match is None:  # evidence from a store or an older run: no cues or probabilities to show
        return SentenceView(html=mark_cues(ev.text, (), max_chars=cfg.max_chars), label=ev.label,
                            tooltip=f"weight {ev.weight:+.3f}", page=ev.page, facets="", weight=ev.weight)
    view = _sentence_view(match, cfg)
    return SentenceView(html=view.html, label=view.label, tooltip=view.tooltip,
                        page=ev.page if ev.page is not None else view.page, facets=view.facets,
                        weight=ev.weight)


__all__ = ["DocumentView", "HeatMap", "SentenceView", "render_report", "report_data", "write_report"]
