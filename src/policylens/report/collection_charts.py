"""Charts of a whole collection, as inline SVG: the index histogram, groups, a trend by year.

All document and metadata text goes through ``Markup.format`` (escaped); the plain
f-strings hold only numbers and constants.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup

from policylens.rank.groups import Group
from policylens.rank.types import FrameworkScore
from policylens.report.charts import COLOURS, lean_of

WIDTH = 880
BINS = 20  # 0.1 wide on the -1 .. +1 axis
HIST_HEIGHT = 220
LABEL_WIDTH = 300
RIGHT_PAD = 120
ROW = 26
TOP = 34
BOTTOM = 44


def _short(text: str, limit: int = 36) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def histogram(scores: Sequence[FrameworkScore]) -> Markup:
    """Documents per 0.1-wide bin of the index, bars coloured by the side they lean to."""
    counts = [0] * BINS
    for s in scores:
        counts[min(BINS - 1, max(0, int((s.index + 1.0) / 2.0 * BINS)))] += 1
    top = max(counts, default=0) or 1
    left, right, base, ceiling = 50.0, WIDTH - 20.0, HIST_HEIGHT - 36.0, 22.0
    step = (right - left) / BINS
    out = [f'<svg class="histogram" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HIST_HEIGHT}" '
           'width="100%" role="img" aria-labelledby="hist-title">',
           '<title id="hist-title">Number of documents per 0.1 of the centralization index</title>']
    for step_no in range(5):
        value = round(top * step_no / 4)
        y = base - (base - ceiling) * value / top
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="#e3e5e8"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" class="tick" text-anchor="end">{value}</text>')
    for i, n in enumerate(counts):
        lo = -1.0 + 2.0 * i / BINS
        centre = lo + 1.0 / BINS
        colour = COLOURS[lean_of(centre)] if abs(centre) > 0.1 else COLOURS["neutral"]
        h = (base - ceiling) * n / top
        x = left + i * step
        out.append(f'<rect class="bin" data-n="{n}" x="{x + 1:.1f}" y="{base - h:.1f}" '
                   f'width="{step - 2:.1f}" height="{h:.1f}" fill="{colour}"><title>{n} '
                   f'document{"" if n == 1 else "s"} with index in '
                   f'[{lo:+.1f}, {lo + 2.0 / BINS:+.1f})</title></rect>')
    for tick in (-1.0, -0.5, 0.0, 0.5, 1.0):
        x = left + (tick + 1.0) / 2.0 * (right - left)
        out.append(f'<text x="{x:.1f}" y="{base + 16}" class="tick" text-anchor="middle">'
                   f'{tick:+.1f}</text>'.replace("+0.0", "0"))
    out.append(f'<text x="{(left + right) / 2:.1f}" y="{base + 32}" class="axis" text-anchor="middle">'
               '◀ sector-specific · centralization index · centralized ▶</text>')
    out.append("</svg>")
    return Markup("\n".join(out))


def _x(value: float) -> float:
    value = max(-1.0, min(1.0, value))
    return LABEL_WIDTH + (value + 1.0) / 2.0 * (WIDTH - LABEL_WIDTH - RIGHT_PAD)


def group_chart(groups: Sequence[Group]) -> Markup:
    """Dot-and-whisker chart of one ``--group-by`` column: group mean and bootstrap interval."""
    rows = max(len(groups), 1)
    plot_bottom = TOP + ROW * rows
    height = plot_bottom + BOTTOM
    left, right, mid = _x(-1.0), _x(1.0), _x(0.0)
    out: list[str] = [
        f'<svg class="group-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        'width="100%" role="img">',
        f'<rect x="{left:.1f}" y="{TOP - 8}" width="{mid - left:.1f}" height="{plot_bottom - TOP + 8}" '
        f'fill="{COLOURS["sector_specific_tint"]}"/>',
        f'<rect x="{mid:.1f}" y="{TOP - 8}" width="{right - mid:.1f}" height="{plot_bottom - TOP + 8}" '
        f'fill="{COLOURS["centralized_tint"]}"/>',
        f'<text x="{left:.1f}" y="{TOP - 14}" class="side" fill="{COLOURS["sector_specific"]}">'
        '◀ sector-specific</text>',
        f'<text x="{right:.1f}" y="{TOP - 14}" class="side" fill="{COLOURS["centralized"]}" '
        'text-anchor="end">centralized ▶</text>',
    ]
    for tick in (-1.0, -0.5, 0.0, 0.5, 1.0):
        x = _x(tick)
        out.append(f'<line x1="{x:.1f}" y1="{TOP - 8}" x2="{x:.1f}" y2="{plot_bottom}" '
                   f'stroke="{"#5b6068" if tick == 0.0 else "#ffffff"}"/>')
        out.append(f'<text x="{x:.1f}" y="{plot_bottom + 16}" class="tick" text-anchor="middle">'
                   f'{tick:+.1f}</text>'.replace("+0.0", "0"))
    out.append(f'<text x="{(left + right) / 2:.1f}" y="{plot_bottom + 36}" class="axis" text-anchor="middle">'
               'mean index of the group (dot) and 95% bootstrap interval over its documents</text>')
    for i, g in enumerate(groups):
        y = TOP + ROW * i + ROW / 2
        colour = COLOURS[lean_of(g.index)]
        interval = (f"[{g.ci_low:+.3f}, {g.ci_high:+.3f}]" if g.ci_low is not None and g.ci_high is not None
                    else "no interval (one document)")
        tip = f"{g.label}: mean index {g.index:+.3f}, 95% interval {interval}, {g.n} documents"
        out.append(Markup('<text x="{}" y="{}" class="label" text-anchor="end">{}</text>')
                   .format(LABEL_WIDTH - 14, f"{y + 4:.1f}", _short(g.label)))
        out.append('<g class="group-row">')
        if g.ci_low is not None and g.ci_high is not None:
            out.append(f'<line class="whisker" x1="{_x(g.ci_low):.1f}" y1="{y:.1f}" x2="{_x(g.ci_high):.1f}" '
                       f'y2="{y:.1f}" stroke="{colour}" stroke-width="2.2" stroke-linecap="round"/>')
        out.append(Markup('<circle class="marker group-marker" cx="{}" cy="{}" r="{}" fill="{}" '
                          'stroke="#fff" stroke-width="1.5"><title>{}</title></circle>')
                   .format(f"{_x(g.index):.1f}", f"{y:.1f}", 6 if g.ci_low is not None else 4, colour, tip))
        out.append(f'<text x="{right + 10:.1f}" y="{y + 4:.1f}" class="value" fill="{colour}">'
                   f'{g.index:+.2f} (n={g.n})</text>')
        out.append("</g>")
    out.append("</svg>")
    return Markup("\n".join(out))


def trend_chart(groups: Sequence[Group]) -> Markup:
    """Mean index per year as a line, the bootstrap interval as a band (years without documents
    are gaps on the axis, not interpolated points)."""
    points = sorted((g for g in groups if isinstance(g.value, int)), key=lambda g: g.value)
    height, left, right, top, bottom = 260, 60.0, WIDTH - 30.0, 20.0, 220.0
    out = [f'<svg class="trend-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
           'width="100%" role="img"><title>Mean index per year with 95% interval</title>']
    if not points:
        out.append(f'<text x="{WIDTH / 2}" y="{height / 2}" class="axis" text-anchor="middle">'
                   'no document has a year</text></svg>')
        return Markup("\n".join(out))
    first, last = points[0].value, points[-1].value
    span = max(1, last - first)

    def x(year: int) -> float:
        return left + (year - first) / span * (right - left) if last > first else (left + right) / 2

    def y(value: float) -> float:
        return top + (1.0 - (max(-1.0, min(1.0, value)) + 1.0) / 2.0) * (bottom - top)

    for tick in (-1.0, -0.5, 0.0, 0.5, 1.0):
        out.append(f'<line x1="{left}" y1="{y(tick):.1f}" x2="{right}" y2="{y(tick):.1f}" '
                   f'stroke="{"#5b6068" if tick == 0 else "#e3e5e8"}"/>')
        out.append(f'<text x="{left - 8}" y="{y(tick) + 4:.1f}" class="tick" text-anchor="end">'
                   f'{tick:+.1f}</text>'.replace("+0.0", "0"))
    banded = [g for g in points if g.ci_low is not None and g.ci_high is not None]
    if len(banded) >= 2:
        upper = " ".join(f"{x(g.value):.1f},{y(g.ci_high):.1f}" for g in banded)  # type: ignore[arg-type]
        lower = " ".join(f"{x(g.value):.1f},{y(g.ci_low):.1f}" for g in reversed(banded))  # type: ignore[arg-type]
        out.append(f'<polygon class="band" points="{upper} {lower}" fill="{COLOURS["neutral"]}" '
                   'fill-opacity="0.18"/>')
    for g in banded:
        out.append(f'<line x1="{x(g.value):.1f}" y1="{y(g.ci_low):.1f}" x2="{x(g.value):.1f}" '  # type: ignore[arg-type]
                   f'y2="{y(g.ci_high):.1f}" stroke="{COLOURS["neutral"]}" stroke-width="1.2"/>')  # type: ignore[arg-type]
    line = " ".join(f"{x(g.value):.1f},{y(g.index):.1f}" for g in points)
    out.append(f'<polyline class="trend" points="{line}" fill="none" stroke="#33383f" stroke-width="1.8"/>')
    for g in points:
        colour = COLOURS[lean_of(g.index)]
        interval = (f"[{g.ci_low:+.3f}, {g.ci_high:+.3f}]" if g.ci_low is not None and g.ci_high is not None
                    else "no interval")
        out.append(f'<circle class="marker year-marker" cx="{x(g.value):.1f}" cy="{y(g.index):.1f}" r="5" '
                   f'fill="{colour}" stroke="#fff"><title>{g.value}: mean {g.index:+.3f}, 95% interval '
                   f'{interval}, {g.n} documents</title></circle>')
        out.append(f'<text x="{x(g.value):.1f}" y="{bottom + 18}" class="tick" text-anchor="middle">'
                   f'{g.value}</text>')
        out.append(f'<text x="{x(g.value):.1f}" y="{bottom + 32}" class="tick n" text-anchor="middle">'
                   f'n={g.n}</text>')
    out.append("</svg>")
    return Markup("\n".join(out))
