"""The ``policylens_facets`` spaCy component: finds the codebook's facet mentions.

Facets are sector, level, instrument and style mentions (``policylens.labels``).
The component matches phrase lists kept as JSONL data files in
``nlp/patterns/facets_<kind>.jsonl`` and writes every match to
``doc.spans["facets"]`` with ``span.label_ == "<kind>:<name>"``.

A pattern line is one JSON object::

    {"label": "sector:healthcare", "pattern": "medical device"}
    {"label": "sector:finance", "pattern": "SEC", "attr": "ORTH"}
    {"label": "sector:education", "pattern": [{"LOWER": "school"}, {"LOWER": "board"}]}
    {"label": "sector:education", "pattern": "school of thought", "veto": true}

Phrase patterns are matched with a ``PhraseMatcher`` on ``LOWER`` (fast, and no
lemmatizer needed): plural and hyphenation variants are generated at load time
so the data files stay short (``"plural": false`` turns plurals off for one
line). ``"attr": "ORTH"`` makes a case-sensitive pattern (acronyms). A list
pattern is a ``Matcher`` token pattern, for the few cases phrases cannot say.
A ``veto`` pattern matches nothing itself: it removes any match with the same
label that overlaps it, which is how traps such as "school of thought" are kept out;
a veto labelled ``"<kind>:*"`` removes every match of that kind (the sector words
inside "Committee on Commerce, Science, and Transportation" name no sector).

>>> import spacy
>>> nlp = spacy.blank("en")
>>> _ = nlp.add_pipe("sentencizer")
>>> _ = nlp.add_pipe("policylens_facets")
>>> doc = nlp("Lenders use credit scoring models. The river bank flooded.")
>>> [(s.text, s.label_) for s in doc.spans["facets"]]
[('Lenders', 'sector:finance'), ('credit scoring', 'sector:finance')]
>>> sentence_facets(list(doc.sents)[0]).sector
('finance',)
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from policylens.errors import ModelError
from policylens.labels import FACET_KINDS
from policylens.nlp.types import Facets

FACTORY_NAME: Final = "policylens_facets"
DEFAULT_SPAN_KEY: Final = "facets"
PATTERNS_DIR: Final = Path(__file__).parent / "patterns"
_PHRASE_ATTRS: Final = ("LOWER", "ORTH")
_CFG_FILE: Final = "cfg.json"
_PATTERNS_FILE: Final = "patterns.jsonl"


@dataclass(frozen=True, slots=True)
class FacetPattern:
    """One line of a pattern file, validated."""

    label: str
    pattern: str | tuple[Mapping[str, Any], ...]
    attr: str = "LOWER"
    veto: bool = False
    plural: bool = True

    @property
    def kind(self) -> str:
        return self.label.split(":", 1)[0]

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "label": self.label,
            "pattern": self.pattern if isinstance(self.pattern, str) else list(self.pattern),
        }
        if self.attr != "LOWER":
            data["attr"] = self.attr
        if self.veto:
            data["veto"] = True
        if not self.plural:
            data["plural"] = False
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, where: str = "<pattern>") -> FacetPattern:
        """Validate one pattern entry; ``where`` names it in the error message."""
        if not isinstance(data, Mapping):
            raise ModelError(f"{where}: a pattern must be a JSON object")
        label = data.get("label")
        if not isinstance(label, str) or ":" not in label:
            raise ModelError(f"{where}: 'label' must look like 'sector:healthcare', got {label!r}")
        kind, name = label.split(":", 1)
        veto = bool(data.get("veto", False))
        known = kind in FACET_KINDS and (name in FACET_KINDS[kind] or (veto and name == "*"))
        if not known:
            raise ModelError(f"{where}: unknown facet label {label!r} (see policylens.labels)")
        raw = data.get("pattern")
        pattern: str | tuple[Mapping[str, Any], ...]
        if isinstance(raw, str) and raw.strip():
            pattern = raw.strip()
        elif isinstance(raw, list) and raw and all(isinstance(t, Mapping) for t in raw):
            pattern = tuple(dict(t) for t in raw)
        else:
            raise ModelError(f"{where}: 'pattern' must be a non-empty string or a list of token dicts")
        attr = str(data.get("attr", "LOWER")).upper()
        if attr not in _PHRASE_ATTRS:
            raise ModelError(f"{where}: 'attr' must be one of {_PHRASE_ATTRS}, got {attr!r}")
        return cls(
            label=label,
            pattern=pattern,
            attr=attr,
            veto=veto,
            plural=bool(data.get("plural", True)),
        )


def read_patterns(path: str | Path) -> list[FacetPattern]:
    """Read one JSONL pattern file (blank lines and ``//`` comment lines are skipped)."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ModelError(f"cannot read facet patterns: {exc.strerror}", path=str(path)) from exc
    patterns = []
    for number, line in enumerate(lines, start=1):
        line = line.strip()
        if not line or line.startswith("//"):
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ModelError(f"line {number}: invalid JSON ({exc.msg})", path=str(path)) from exc
        patterns.append(FacetPattern.from_dict(data, where=f"{path}:{number}"))
    return patterns


def default_patterns() -> list[FacetPattern]:
    """The patterns shipped with policylens: one file per facet kind."""
    patterns: list[FacetPattern] = []
    for kind in FACET_KINDS:
        path = PATTERNS_DIR / f"facets_{kind}.jsonl"
        if path.exists():
            patterns.extend(read_patterns(path))
    return patterns


def _plural(word: str) -> str | None:
    """A regular English plural of ``word``, or None when it should not be guessed."""
    if len(word) < 3 or not word.isalpha() or word.endswith("s"):
        return None
    if word.endswith("y") and word[-2] not in "aeiou":
        return word[:-1] + "ies"
    if word.endswith(("ch", "sh", "x", "z")):
        return word + "es"
    return word + "s"


def phrase_variants(text: str, *, plural: bool = True) -> list[str]:
    """Spelling variants of a phrase: hyphenated/open/closed forms and the plural of its last word.

    >>> phrase_variants("self-driving car")
    ['self-driving car', 'self driving car', 'selfdriving car', 'self-driving cars', 'self driving cars', \
'selfdriving cars']
    """
    forms = [text]
    if "-" in text:
        forms += [text.replace("-", " "), text.replace("-", "")]
    if plural:
        plurals = []
        for form in forms:
            head, _, last = form.rpartition(" ")
            word = _plural(last)
            if word is not None:
                plurals.append(f"{head} {word}" if head else word)
        forms += plurals
    return list(dict.fromkeys(forms))


class FacetMatcher:
    """Match facet phrases and store them in ``doc.spans[span_key]``, sorted by position."""

    def __init__(
        self,
        nlp: Language,
        name: str = FACTORY_NAME,
        *,
        patterns: Iterable[FacetPattern] | None = None,
        span_key: str = DEFAULT_SPAN_KEY,
    ) -> None:
        self.nlp = nlp
        self.name = name
        self.span_key = span_key
        self.patterns: list[FacetPattern] = []
        self.set_patterns(default_patterns() if patterns is None else patterns)

    def set_patterns(self, patterns: Iterable[FacetPattern]) -> None:
        """Replace all patterns and rebuild the matchers."""
        self.patterns = list(patterns)
        vocab = self.nlp.vocab
        self._phrase = {attr: PhraseMatcher(vocab, attr=attr) for attr in _PHRASE_ATTRS}
        self._veto_phrase = {attr: PhraseMatcher(vocab, attr=attr) for attr in _PHRASE_ATTRS}
        self._tokens = Matcher(vocab)
        self._veto_tokens = Matcher(vocab)
        grouped: dict[tuple[str, str, bool], list[str]] = {}
        for p in self.patterns:
            if isinstance(p.pattern, str):
                texts = phrase_variants(p.pattern, plural=p.plural) if p.attr == "LOWER" else [p.pattern]
                key = (p.label, p.attr, p.veto)
                grouped.setdefault(key, []).extend(t.lower() if p.attr == "LOWER" else t for t in texts)
            else:
                matcher = self._veto_tokens if p.veto else self._tokens
                matcher.add(p.label, [list(p.pattern)])
        for (label, attr, veto), texts in grouped.items():
            docs = list(self.nlp.tokenizer.pipe(dict.fromkeys(texts)))
            (self._veto_phrase if veto else self._phrase)[attr].add(label, docs)
        self._has_veto = any(p.veto for p in self.patterns)

    def _spans(self, doc: Doc, phrase: Mapping[str, PhraseMatcher], tokens: Matcher) -> Iterator[Span]:
        for matcher in phrase.values():
            if len(matcher):
                yield from matcher(doc, as_spans=True)
        if len(tokens):
            yield from tokens(doc, as_spans=True)

    def __call__(self, doc: Doc) -> Doc:
        by_label: dict[str, list[Span]] = {}
        for span in self._spans(doc, self._phrase, self._tokens):
            by_label.setdefault(span.label_, []).append(span)
        if self._has_veto and by_label:
            for veto in self._spans(doc, self._veto_phrase, self._veto_tokens):
                kind, _, name = veto.label_.partition(":")
                if name == "*":
                    targets = [lab for lab in by_label if lab.startswith(kind + ":")]
                else:
                    targets = [veto.label_] if veto.label_ in by_label else []
                for label in targets:
                    kept = [s for s in by_label[label] if s.end <= veto.start or s.start >= veto.end]
                    by_label[label] = kept
        # Per label, keep the longest of overlapping matches ("medical device" over "device").
        spans = [s for found in by_label.values() for s in filter_spans(found)]
        spans.sort(key=lambda s: (s.start, s.end, s.label_))
        doc.spans[self.span_key] = spans
        return doc

    # --- serialization: plain JSON, never pickle ------------------------------------

    def to_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        (path / _CFG_FILE).write_text(json.dumps({"span_key": self.span_key}), encoding="utf-8")
        lines = (json.dumps(p.to_dict(), ensure_ascii=False) for p in self.patterns)
        (path / _PATTERNS_FILE).write_text("\n".join(lines) + "\n", encoding="utf-8")

    def from_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> FacetMatcher:
        path = Path(path)
        cfg_path = path / _CFG_FILE
        if cfg_path.exists():
            try:
                cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as exc:
                raise ModelError(f"unreadable facets config: {exc}", path=str(cfg_path)) from exc
            self.span_key = str(cfg.get("span_key", self.span_key))
        self.set_patterns(read_patterns(path / _PATTERNS_FILE))
        return self

    def to_bytes(self, *, exclude: Iterable[str] = ()) -> bytes:
        data = {"span_key": self.span_key, "patterns": [p.to_dict() for p in self.patterns]}
        return json.dumps(data, ensure_ascii=False).encode("utf-8")

    def from_bytes(self, data: bytes, *, exclude: Iterable[str] = ()) -> FacetMatcher:
        try:
            payload = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ModelError(f"unreadable facets data: {exc}") from exc
        self.span_key = str(payload.get("span_key", self.span_key))
        self.set_patterns(FacetPattern.from_dict(p) for p in payload.get("patterns", []))
        return self


@Language.factory(FACTORY_NAME, default_config={"patterns_path": None, "span_key": DEFAULT_SPAN_KEY})
def make_facets(nlp: Language, name: str, *, patterns_path: str | None, span_key: str) -> FacetMatcher:
    """Build the component. ``patterns_path``: a JSONL file or a folder of them (default: shipped data)."""
    patterns: list[FacetPattern] | None = None
    if patterns_path:
        path = Path(patterns_path)
        files = sorted(path.glob("*.jsonl")) if path.is_dir() else [path]
        patterns = [p for f in files for p in read_patterns(f)]
    return FacetMatcher(nlp, name, patterns=patterns, span_key=span_key)


def sentence_facets(sent: Span, *, span_key: str = DEFAULT_SPAN_KEY) -> Facets:
    """The facets mentioned inside ``sent`` (sorted, de-duplicated names per kind).

    Needs ``doc.spans[span_key]`` sorted by start, as ``FacetMatcher`` leaves it;
    a doc the component has not seen gives empty facets.
    """
    group = sent.doc.spans.get(span_key) if span_key in sent.doc.spans else None
    if not group:
        return Facets()
    found: dict[str, set[str]] = {kind: set() for kind in FACET_KINDS}
    i = bisect.bisect_left(group, sent.start, key=lambda s: s.start)
    while i < len(group):
        span = group[i]
        if span.start >= sent.end:
            break
        if span.end <= sent.end:
            kind, _, name = span.label_.partition(":")
            if kind in found:
                found[kind].add(name)
        i += 1
    return Facets(**{kind: tuple(sorted(names)) for kind, names in found.items()})
