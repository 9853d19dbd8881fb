"""Report inputs built by hand: small ``TaggedDocument``/``FrameworkScore`` pairs (no model needed).

Shared by the report tests; the sentences are written for these tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

from policylens.labels import FACET_KINDS, LABELS
from policylens.nlp.types import Cue, Facets, TaggedDocument, TaggedSentence
from policylens.rank.types import Evidence, FrameworkScore

MODEL = "governance-test-1"
HOSTILE = 'Vendors must file <script>alert("x")</script> returns & notes with the "central" registry.'

C, S, N = "centralized", "sector_specific", "neutral"


@dataclass(frozen=True)
class Row:
    """One hand-made sentence: text, label, cues as (text, approach, negated), page, facets."""

    text: str
    label: str
    cues: tuple[tuple[str, str, bool], ...] = ()
    page: int = 1
    facets: dict[str, tuple[str, ...]] = field(default_factory=dict)


DOCUMENTS: dict[str, tuple[str, list[Row]]] = {
    "frameworks/harbour-act.txt": ("Harbour Artificial Intelligence Act", [
        Row("This Act lays down one set of rules for every AI system sold in Harbour.", C,
            (("one set of rules", C, False),), 1, {"level": ("national",), "instrument": ("legislation",)}),
        Row("A new AI Office will register high-risk systems and may fine any provider.", C,
            (("AI Office", C, False), ("register", C, False)), 1,
            {"instrument": ("licensing_registration",), "style": ("binding",)}),
        Row("The Office sets binding rules that override the practice of sector supervisors.", C,
            (("binding rules", C, False),), 2, {"style": ("binding", "prescriptive")}),
        Row("Hospitals may keep using their own clinical review boards for diagnostic tools.", S,
            (("clinical review boards", S, False),), 2, {"sector": ("healthcare",)}),
        Row("Definitions in this Part apply to the whole Act.", N, (), 3),
        Row("The Act takes effect once a full year has passed since its adoption.", N, (), 3),
        Row(HOSTILE, C, (("registry", C, False),), 4,
            {"instrument": ("licensing_registration", "transparency_disclosure")}),
    ]),
    "frameworks/lowland-guidance.md": ("Lowland sector guidance", [
        Row("Rather than creating a new AI regulator, each existing regulator will apply its own mandate.", S,
            (("new AI regulator", C, True), ("existing regulator", S, False)), 1, {"level": ("national",)}),
        Row("The banking supervisor will publish guidance on credit scoring models.", S,
            (("banking supervisor", S, False),), 1, {"sector": ("finance",), "instrument": ("standards",)}),
        Row("Road authorities will run a test bed for automated shuttles.", S, (("test bed", S, False),), 2,
            {"sector": ("transportation",), "instrument": ("sandbox_testbed",)}),
        Row("Schools should explain to parents how grading software is used.", S, (), 2,
            {"sector": ("education",), "instrument": ("transparency_disclosure",)}),
        Row("AI can help farmers plan their harvests.", N, (), 3, {"sector": ("agriculture",)}),
        Row("A central AI registry is not proposed.", S, (("central AI registry", C, True),), 3),
    ]),
    "frameworks/middle-way.pdf": ("Middle Way Strategy", [
        Row("A national coordination unit will advise sector regulators.", S,
            (("advise sector regulators", S, False),), 1, {"level": ("national",)}),
        Row("All public-sector buyers must check AI systems against one common standard.", C,
            (("one common standard", C, False),), 1,
            {"sector": ("public_sector",), "instrument": ("procurement", "standards")}),
        Row("Funding for research will double over five years.", N, (), 2,
            {"instrument": ("funding_incentives",)}),
    ]),
}

PROBS = {"centralized": (0.82, 0.10, 0.08), "sector_specific": (0.09, 0.79, 0.12),
         "neutral": (0.07, 0.08, 0.85)}


def _cue(text: str, cue_text: str, approach: str, negated: bool) -> Cue:
    start = text.lower().find(cue_text.lower())
    assert start >= 0, (cue_text, text)
    return Cue(text=text[start:start + len(cue_text)], approach=approach, negated=negated,  # type: ignore[arg-type]
               start=start, end=start + len(cue_text))


def tagged_document(source: str) -> TaggedDocument:
    """The hand-made ``TaggedDocument`` for one of ``DOCUMENTS``."""
    title, rows = DOCUMENTS[source]
    sentences = tuple(
        TaggedSentence(doc=source, sentence_id=i, text=r.text, label=r.label,  # type: ignore[arg-type]
                       probs=dict(zip(LABELS, PROBS[r.label], strict=True)),
                       cues=tuple(_cue(r.text, *cue) for cue in r.cues), facets=Facets(**r.facets),
                       page=r.page)
        for i, r in enumerate(rows))
    return TaggedDocument(source=source, title=title, sha256="0" * 64,
                          n_pages=max(r.page for r in rows), sentences=sentences, model_version=MODEL)


def framework_score(tagged: TaggedDocument) -> FrameworkScore:
    """A score worked out from the hand-made sentences: the mean lean, a fixed-width interval."""
    sentences = tagged.sentences
    leans = [s.lean for s in sentences]
    c = sum(s.probs["centralized"] for s in sentences)
    s_ = sum(s.probs["sector_specific"] for s in sentences)
    index = (c - s_) / (c + s_ + 1.0)
    weights = [lean / (c + s_ + 1.0) for lean in leans]
    order = sorted(range(len(sentences)), key=lambda i: -abs(weights[i]))[:3]
    evidence = tuple(Evidence(text=sentences[i].text, label=sentences[i].label, page=sentences[i].page,
                              weight=weights[i]) for i in order)
    facets = {kind: {name: sum(1 for s in sentences if name in getattr(s.facets, kind)) for name in names}
              for kind, names in FACET_KINDS.items()}
    facets = {kind: {n: v for n, v in names.items() if v} for kind, names in facets.items()}
    counts = {label: sum(1 for s in sentences if s.label == label) for label in LABELS}
    return FrameworkScore(doc=tagged.source, title=tagged.title, index=index,
                          ci_low=max(-1.0, index - 0.25), ci_high=min(1.0, index + 0.25),
                          n_sentences=len(sentences), counts=counts, facets=facets, evidence=evidence,
                          model_version=MODEL)


def build_inputs() -> tuple[list[FrameworkScore], dict[str, TaggedDocument]]:
    """Scores (unranked, in file order) and the tagged documents keyed by source."""
    tagged = {source: tagged_document(source) for source in DOCUMENTS}
    return [framework_score(t) for t in tagged.values()], tagged


def expected_order() -> list[str]:
    """Titles, most centralized first."""
    scores, _ = build_inputs()
    return [s.title for s in sorted(scores, key=lambda s: -s.index)]


# --- a small DOM for assertions (stdlib html.parser; the browser's DOM dump is parsed the same way) ---

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Node | str] = field(default_factory=list)

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def iter(self) -> Iterator[Node]:
        yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.iter()

    def find_all(self, tag: str | None = None, cls: str | None = None) -> list[Node]:
        return [n for n in self.iter() if (tag is None or n.tag == tag) and (cls is None or cls in n.classes)]

    def find(self, tag: str | None = None, cls: str | None = None, id: str | None = None) -> Node:
        for n in self.iter():
            if (tag is None or n.tag == tag) and (cls is None or cls in n.classes) and \
                    (id is None or n.attrs.get("id") == id):
                return n
        raise AssertionError(f"no <{tag} class={cls!r} id={id!r}> in the page")


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Node(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(html: str) -> Node:
    """The page as a tree of ``Node`` (enough HTML parsing for assertions)."""
    builder = _Builder()
    builder.feed(html)
    builder.close()
    return builder.root


def page_data(html: str) -> dict:
    """The inline JSON the report's script renders documents from (checked to be script-safe)."""
    import json
    import re

    found = re.search(r'<script type="application/json" id="policylens-data">(.*?)</script>', html, re.S)
    assert found, "no inline data in the report"
    raw = found.group(1)
    assert "<" not in raw and ">" not in raw  # nothing in it can close the script or open a comment
    return json.loads(raw)


def document_data(html: str, anchor: str) -> dict:
    """One document's entry in the report's inline JSON."""
    return next(d for d in page_data(html)["documents"] if d["anchor"] == anchor)


def cue_marks(sentence: dict) -> dict[str, tuple[str, bool]]:
    """A payload sentence's cues: marked text -> (approach code, negated)."""
    return {sentence["t"][s:e]: (side, bool(neg)) for s, e, side, neg in sentence.get("c", [])}
