"""Each document's evidence and sentences as compact JSON, rendered on demand by the page.

A report of 1,000 documents cannot show every sentence: the page would weigh tens of
megabytes and the browser would build a million elements before showing anything.
So the sentences travel as one inline JSON block and the page builds a document's
section only when it is opened. Sentences are taken in order of importance until
``ReportSettings.sentence_bytes`` is spent: every document's evidence first, then
its other governance sentences, then neutral ones, one sentence per document at a
time, so that no document's list is starved by a long neighbour.

Inline JSON is made safe for a ``<script>`` element by ``script_json``: ``<``, ``>``
and ``&`` are written as ``\\u003c``/``\\u003e``/``\\u0026``, so no document text can
close the script (``</script>``) or open a comment (``<!--``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from policylens.labels import LABELS
from policylens.nlp.types import TaggedDocument, TaggedSentence
from policylens.rank.types import Evidence, FrameworkScore
from policylens.report.highlight import locate
from policylens.report.settings import ReportSettings

LABEL_CODE = {"centralized": "c", "sector_specific": "s", "neutral": "n"}
APPROACH_CODE = {"centralized": "c", "sector_specific": "s"}


def script_json(data: Any) -> Markup:
    """JSON that is safe inside ``<script type="application/json">`` (and in JavaScript).

    >>> str(script_json({"t": "</script><!-- & \\u2028"}))
    '{"t":"\\\\u003c/script\\\\u003e\\\\u003c!-- \\\\u0026 \\\\u2028"}'
    """
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=str)
    for raw, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                         ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(raw, escaped)
    return Markup(text)  # every character that could end the element is escaped above


def sentence_data(sentence: TaggedSentence | None, cfg: ReportSettings, *,
                  evidence: Evidence | None = None) -> dict[str, Any]:
    """One sentence, compactly: text ``t`` (cut to ``max_chars``; ``x`` set when cut), label ``l``,
    page ``p``, probabilities ``pr`` (in ``LABELS`` order), role ``r`` (codebook v2.0: ``a``rchitecture,
    ``p``rovision or ``o``ther) with its probability ``rp``, facets ``f``, cues ``c`` as
    ``[start, end, approach, negated]`` and, for evidence, the signed weight ``w``."""
    text = evidence.text if sentence is None and evidence is not None else sentence.text  # type: ignore[union-attr]
    shown = text[:cfg.max_chars]
    data: dict[str, Any] = {"t": shown}
    if len(text) > cfg.max_chars:
        data["x"] = 1
    if sentence is not None:
        data["l"] = LABEL_CODE.get(sentence.label, "n")
        data["pr"] = [round(float(sentence.probs.get(label, 0.0)), 2) for label in LABELS]
        data["r"] = sentence.role[0]
        data["rp"] = round(float(sentence.role_probs.get(sentence.role, 0.0)), 2)
        cues = [[s.start, s.end, APPROACH_CODE.get(s.cue.approach, "c"), int(s.cue.negated)]
                for s in locate(text, sentence.cues) if s.end <= len(shown)]
        if cues:
            data["c"] = cues
        facets = _facets(sentence)
        if facets:
            data["f"] = facets
        page = sentence.page
    else:
        data["l"] = LABEL_CODE.get(evidence.label, "n") if evidence is not None else "n"
        page = None
    if evidence is not None:
        data["w"] = round(evidence.weight, 4)
        page = evidence.page if evidence.page is not None else page
    if page is not None:
        data["p"] = page
    return data


def _facets(sentence: TaggedSentence) -> str:
    f = sentence.facets
    names = [*f.sector, *f.level, *f.instrument, *f.style]
    return " · ".join(dict.fromkeys(n.replace("_", " ") for n in names))


def _size(item: Mapping[str, Any]) -> int:
    return len(json.dumps(item, ensure_ascii=False, separators=(",", ":"))) + 1


@dataclass(slots=True)
class _Queue:
    """One document's sentences waiting for the budget, per tier (evidence, governance, neutral)."""

    tiers: list[list[tuple[TaggedSentence | None, Evidence | None]]]
    capped: list[int]  # per tier: left out by the settings' caps before the budget was applied
    taken: list[list[dict[str, Any]]] = field(default_factory=lambda: [[], [], []])

    def hidden(self, tier: int) -> int:
        return self.capped[tier] + len(self.tiers[tier]) - len(self.taken[tier])


def document_payloads(scores: Sequence[FrameworkScore], tagged: Mapping[str, TaggedDocument | None],
                      cfg: ReportSettings) -> list[dict[str, Any]]:
    """Per document (in the order of ``scores``): its evidence ``e``, other governance
    sentences ``g`` and neutral ones ``n``, and how many of each were left out (``he``, ``hg``, ``hn``)."""
    queues = [_queue(score, tagged.get(score.doc), cfg) for score in scores]
    budget = cfg.sentence_bytes
    for tier in range(3):
        budget = _fill(queues, tier, budget, cfg)
    return [{"e": q.taken[0], "g": q.taken[1], "n": q.taken[2],
             "he": q.hidden(0), "hg": q.hidden(1), "hn": q.hidden(2)} for q in queues]


def _queue(score: FrameworkScore, tagged: TaggedDocument | None, cfg: ReportSettings) -> _Queue:
    sentences: tuple[TaggedSentence, ...] = tagged.sentences if tagged is not None else ()
    by_text = {s.text: s for s in reversed(sentences)}  # the first sentence of a repeated text wins
    loose: dict[str, TaggedSentence] | None = None  # built only if some evidence text differs in spacing
    evidence: list[tuple[TaggedSentence | None, Evidence | None]] = []
    shown: set[int] = set()
    for ev in score.evidence:
        match = by_text.get(ev.text)
        if match is None and sentences:
            if loose is None:
                loose = {}
                for s in sentences:
                    loose.setdefault(_key(s.text), s)
            match = loose.get(_key(ev.text))
        if match is not None:
            shown.add(match.sentence_id)
        evidence.append((match, ev))
    rest = [s for s in sentences if s.sentence_id not in shown]
    governance: list[tuple[TaggedSentence | None, Evidence | None]] = [
        (s, None) for s in rest if s.label != "neutral"]
    neutral: list[tuple[TaggedSentence | None, Evidence | None]] = [
        (s, None) for s in rest if s.label == "neutral"]
    return _Queue(tiers=[evidence, governance[: cfg.max_governance], neutral[: cfg.max_neutral]],
                  capped=[0, max(0, len(governance) - cfg.max_governance),
                          max(0, len(neutral) - cfg.max_neutral)])


def _fill(queues: list[_Queue], tier: int, budget: int, cfg: ReportSettings) -> int:
    """Take one sentence per document in turn until the tier is used up or the budget is spent."""
    active = [q for q in queues if q.tiers[tier]]
    position = 0
    while active:
        still = []
        for queue in active:
            sentence, evidence = queue.tiers[tier][position]
            data = sentence_data(sentence, cfg, evidence=evidence)
            size = _size(data)
            if size > budget:
                return 0  # spent: every later sentence stays out, and is counted as left out
            budget -= size
            queue.taken[tier].append(data)
            if position + 1 < len(queue.tiers[tier]):
                still.append(queue)
        active = still
        position += 1
    return budget


def _key(text: str) -> str:
    return " ".join(text.lower().split())
