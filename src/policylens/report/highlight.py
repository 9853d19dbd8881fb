"""Sentence text with its cues marked, as escaped HTML.

Document text is untrusted: every piece of it goes through ``markupsafe.escape``
and only the ``<mark>`` tags made here are trusted markup.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from markupsafe import Markup, escape

from policylens.nlp.types import Cue

ELLIPSIS = "…"


@dataclass(frozen=True, slots=True)
class Span:
    """Where one cue sits in the sentence text (resolved character offsets)."""

    start: int
    end: int
    cue: Cue


def locate(text: str, cues: Iterable[Cue]) -> list[Span]:
    """Resolve cue offsets against ``text``; overlapping or unfound cues are dropped.

    Offsets are trusted when they point at the cue's text. Cues read back from
    JSON carry no offsets (``Cue.to_dict`` leaves them out), so those are found
    by a case-insensitive search, each occurrence used once.
    """
    lowered = text.lower()
    spans: list[Span] = []
    taken: list[tuple[int, int]] = []
    for cue in cues:
        if not cue.text:
            continue
        start, end = cue.start, cue.end
        if not (0 <= start < end <= len(text) and text[start:end].lower() == cue.text.lower()):
            start = _free_occurrence(lowered, cue.text.lower(), taken)
            if start < 0:
                continue
            end = start + len(cue.text)
        if any(start < b and a < end for a, b in taken):
            continue
        taken.append((start, end))
        spans.append(Span(start, end, cue))
    return sorted(spans, key=lambda s: s.start)


def _free_occurrence(haystack: str, needle: str, taken: list[tuple[int, int]]) -> int:
    at = haystack.find(needle)
    while at >= 0:
        if not any(at < b and a < at + len(needle) for a, b in taken):
            return at
        at = haystack.find(needle, at + 1)
    return -1


def mark_cues(text: str, cues: Iterable[Cue], *, max_chars: int | None = None) -> Markup:
    """``text`` escaped, each cue wrapped in ``<mark class="cue cue-<approach>">``.

    Negated cues also get the ``negated`` class and a tooltip saying they count
    for the other approach. With ``max_chars`` the text is cut (and cues past the
    cut dropped) so one run-on "sentence" cannot swamp the page.
    """
    cut = max_chars is not None and len(text) > max_chars
    shown = text[:max_chars] if cut and max_chars is not None else text
    parts: list[str] = []
    pos = 0
    for span in locate(text, cues):
        if span.end > len(shown):
            break
        parts.append(escape(shown[pos:span.start]))
        parts.append(_mark(shown[span.start:span.end], span.cue))
        pos = span.end
    parts.append(escape(shown[pos:]))
    if cut:
        parts.append(Markup('<span class="cut" title="sentence shortened in this report">{}</span>')
                     .format(ELLIPSIS))
    return Markup("").join(parts)


def _mark(fragment: str, cue: Cue) -> Markup:
    side = cue.approach.replace("_", "-")
    if cue.negated:
        other = "sector-specific" if cue.approach == "centralized" else "centralized"
        title = f"negated {side} cue: counts for {other}"
        cls = f"cue cue-{cue.approach} negated"
    else:
        title = f"{side} cue"
        cls = f"cue cue-{cue.approach}"
    return Markup('<mark class="{}" title="{}">{}</mark>').format(cls, title, fragment)
