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

Every match has a *role*, kept in ``span.id_``: ``"domain"`` (the sector is
where AI is used or governed) or ``"actor"`` (the words only name an institution
or office that regulates or administers the sector, as in "the Federal Trade
Commission shall report"). A line with ``"role": "actor"`` makes actor matches
(agency names and acronyms). A line with ``"mark": "actor"`` matches nothing
itself but turns every overlapping match of its label (or kind, with
``"<kind>:*"``) into an actor match; ``"extend"`` stretches the mark from its
anchor phrase over an official name (``"name_after"``: "Department of" +
"Consumer Affairs"; ``"name_before"``) or the rest of a clause (``"clause"``:
"in consultation with" + "the Secretary of Transportation"), and ``"spare"``
lists labels a wildcard mark leaves alone (the Department of Defense runs the
military: there the institution *is* the sector). Actor matches stay in
``doc.spans`` (they are evidence for the classifier); ``sentence_facets``
leaves them out unless asked.

>>> import spacy
>>> nlp = spacy.blank("en")
>>> _ = nlp.add_pipe("sentencizer")
>>> _ = nlp.add_pipe("policylens_facets")
>>> doc = nlp("Lenders use credit scoring models. The river bank flooded.")
>>> [(s.text, s.label_) for s in doc.spans["facets"]]
[('Lenders', 'sector:finance'), ('credit scoring', 'sector:finance')]
>>> sentence_facets(list(doc.sents)[0]).sector
('finance',)
>>> doc = nlp("The Federal Communications Commission shall report. Carriers use AI on broadband networks.")
>>> [(s.text, s.id_) for s in doc.spans["facets"] if s.label_ == "sector:telecommunications"]
[('Federal Communications Commission', 'actor'), ('broadband', 'domain')]
>>> [sentence_facets(sent).sector for sent in doc.sents]
[(), ('telecommunications',)]
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
from policylens.nlp.anchors import AnchorGate
from policylens.nlp.types import Facets

FACTORY_NAME: Final = "policylens_facets"
DEFAULT_SPAN_KEY: Final = "facets"
PATTERNS_DIR: Final = Path(__file__).parent / "patterns"
_PHRASE_ATTRS: Final = ("LOWER", "ORTH")
ROLE_DOMAIN: Final = "domain"
ROLE_ACTOR: Final = "actor"
ROLES: Final = (ROLE_DOMAIN, ROLE_ACTOR)
# How far a mark reaches beyond its anchor phrase: over the capitalised words of an
# official name after it ("Department of" + "Consumer Affairs") or before it ("Federal
# Trade" + "Commission"), or over the rest of a clause (up to punctuation, at most
# _CLAUSE_TOKENS tokens: "in consultation with" + "the Secretary of Health").
_EXTENDS: Final = ("name_after", "name_before", "clause")
_CLAUSE_TOKENS: Final = 10
_NAME_GLUE: Final = frozenset({"and", "of", "the", "for", "&"})
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
    role: str = ROLE_DOMAIN
    mark: str | None = None
    spare: tuple[str, ...] = ()
    extend: str | None = None

    @property
    def kind(self) -> str:
        return self.label.split(":", 1)[0]

    @property
    def matches(self) -> bool:
        """True for a pattern that makes matches (not a veto, not a mark)."""
        return not self.veto and self.mark is None

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
        if self.role != ROLE_DOMAIN:
            data["role"] = self.role
        if self.mark is not None:
            data["mark"] = self.mark
        if self.spare:
            data["spare"] = list(self.spare)
        if self.extend is not None:
            data["extend"] = self.extend
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
        mark = data.get("mark")
        if mark is not None and mark not in ROLES:
            raise ModelError(f"{where}: 'mark' must be one of {ROLES}, got {mark!r}")
        if mark is not None and veto:
            raise ModelError(f"{where}: a pattern is either a veto or a mark, not both")
        role = data.get("role", ROLE_DOMAIN)
        if role not in ROLES:
            raise ModelError(f"{where}: 'role' must be one of {ROLES}, got {role!r}")
        spare = data.get("spare", [])
        if not isinstance(spare, list) or not all(str(x).startswith(kind + ":") for x in spare):
            raise ModelError(f"{where}: 'spare' must be a list of '{kind}:...' labels")
        if spare and name != "*":
            raise ModelError(f"{where}: 'spare' only makes sense with a '{kind}:*' label")
        extend = data.get("extend")
        if extend is not None and (mark is None or extend not in _EXTENDS):
            raise ModelError(f"{where}: 'extend' needs a 'mark' and one of {_EXTENDS}, got {extend!r}")
        wildcard_ok = veto or mark is not None
        known = kind in FACET_KINDS and (name in FACET_KINDS[kind] or (wildcard_ok and name == "*"))
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
            role=role,
            mark=mark,
            spare=tuple(spare),
            extend=extend,
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


_GROUPS: Final = ("match", "veto", "mark")


def _is_name_word(token: Any) -> bool:
    return token.is_title or (token.is_upper and token.is_alpha) or token.lower_ in _NAME_GLUE


def _extended(doc: Doc, start: int, end: int, extend: str | None) -> tuple[int, int]:
    """Token bounds of a mark after stretching its anchor ``[start, end)`` as ``extend`` says."""
    if extend == "clause":
        stop = min(len(doc), end + _CLAUSE_TOKENS)
        while end < stop and not doc[end].is_punct:
            end += 1
    elif extend == "name_after":
        while end < len(doc) and _is_name_word(doc[end]):
            end += 1
    elif extend == "name_before":
        while start > 0 and _is_name_word(doc[start - 1]):
            start -= 1
    return start, end


TOKENIZED_FORMAT: Final = 1


def tokenized(nlp: Language, texts: Iterable[str]) -> dict[str, tuple[list[str], list[bool]]]:
    """``text -> (words, spaces)`` as ``nlp``'s tokenizer splits each text, cached on disk.

    Tokenizing the phrase variants is most of this component's start-up; the cache key holds
    the tokenizer's own serialised rules, so a different tokenizer (another spaCy model or
    version) never reads another's entry.
    """
    import hashlib

    from spacy import about

    from policylens import cache

    unique = list(dict.fromkeys(texts))
    tokenizer: Any = nlp.tokenizer  # spaCy's Tokenizer (typed as a plain callable)
    try:
        rules = hashlib.sha256(tokenizer.to_bytes(exclude=["vocab"])).hexdigest()
    except (AttributeError, TypeError, ValueError):  # a custom tokenizer without to_bytes: no cache
        rules = None
    key = cache.content_key(TOKENIZED_FORMAT, about.__version__, nlp.lang, rules, unique)
    entry = cache.read_entry("facet-tokens", key) if rules else None
    if (isinstance(entry, dict) and set(entry) == set(unique)
            and all(isinstance(v, list) and len(v) == 2 and isinstance(v[0], list) and isinstance(v[1], str)
                    and len(v[0]) == len(v[1]) for v in entry.values())):
        return {t: (w, [c == "1" for c in sp]) for t, (w, sp) in entry.items()}
    out = {t: ([tok.text for tok in doc], [bool(tok.whitespace_) for tok in doc])
           for t, doc in zip(unique, tokenizer.pipe(unique), strict=True)}
    if rules:
        cache.write_entry("facet-tokens", key,
                          {t: [w, "".join("1" if s else "0" for s in sp)] for t, (w, sp) in out.items()})
    return out


def _group_of(pattern: FacetPattern) -> str:
    return "veto" if pattern.veto else "mark" if pattern.mark is not None else "match"


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
        # One matcher key per (label, role) so a match knows both; marks use the role they give.
        self._phrase = {g: {a: PhraseMatcher(vocab, attr=a) for a in _PHRASE_ATTRS} for g in _GROUPS}
        self._tokens = {g: Matcher(vocab) for g in _GROUPS}
        self._gates = {g: AnchorGate(vocab) for g in _GROUPS}  # skip docs a token matcher cannot match
        self._keys: dict[int, tuple[str, str]] = {}
        self._spare: dict[str, frozenset[str]] = {}
        self._extend: dict[str, str | None] = {}
        grouped: dict[tuple[str, str, str, str], list[str]] = {}
        for p in self.patterns:
            group = _group_of(p)
            role = p.mark if p.mark is not None else p.role
            key = f"{p.label}|{role}|{p.extend or ''}|{','.join(sorted(p.spare))}"
            self._keys[vocab.strings.add(key)] = (key, role)
            self._spare[key] = frozenset(p.spare)
            self._extend[key] = p.extend
            if isinstance(p.pattern, str):
                texts = phrase_variants(p.pattern, plural=p.plural) if p.attr == "LOWER" else [p.pattern]
                bucket = grouped.setdefault((group, key, p.attr, role), [])
                bucket.extend(t.lower() if p.attr == "LOWER" else t for t in texts)
            else:
                self._tokens[group].add(key, [[dict(token) for token in p.pattern]])
                self._gates[group].add(p.pattern)
        tokens = tokenized(self.nlp, [t for texts in grouped.values() for t in texts])
        for (group, key, attr, _role), texts in grouped.items():
            docs = [Doc(vocab, words=tokens[t][0], spaces=tokens[t][1]) for t in dict.fromkeys(texts)]
            self._phrase[group][attr].add(key, docs)
        self._has = {g: any(_group_of(p) == g for p in self.patterns) for g in _GROUPS}

    def _found(self, doc: Doc, group: str) -> Iterator[tuple[str, str, int, int]]:
        """(matcher key, role, start, end) of every raw match of one pattern group."""
        keys = self._keys
        matchers: list[PhraseMatcher | Matcher] = [*self._phrase[group].values()]
        if len(self._tokens[group]) and self._gates[group].may_match(doc):
            matchers.append(self._tokens[group])
        for matcher in matchers:
            if len(matcher):
                for match_id, start, end in matcher(doc):
                    key, role = keys[match_id]
                    yield key, role, start, end

    def _targets(self, key: str, present: Iterable[str]) -> list[str]:
        """The labels among ``present`` that a veto or mark with matcher key ``key`` applies to."""
        kind, _, name = key.partition("|")[0].partition(":")
        if name == "*":
            spare = self._spare.get(key, frozenset())
            return [lab for lab in present if lab.startswith(kind + ":") and lab not in spare]
        label = f"{kind}:{name}"
        return [label] if label in present else []

    def __call__(self, doc: Doc) -> Doc:
        by_label: dict[str, list[Span]] = {}
        for key, role, start, end in self._found(doc, "match"):
            label = key.partition("|")[0]
            by_label.setdefault(label, []).append(Span(doc, start, end, label=label, span_id=role))
        if self._has["veto"] and by_label:
            for key, _role, start, end in self._found(doc, "veto"):
                for target in self._targets(key, by_label):
                    by_label[target] = [s for s in by_label[target] if s.end <= start or s.start >= end]
        # Per label, keep the longest of overlapping matches ("medical device" over "device").
        spans = [s for found in by_label.values() for s in filter_spans(found)]
        if self._has["mark"] and spans:
            marks: dict[str, list[tuple[int, int, str]]] = {}
            for key, role, start, end in self._found(doc, "mark"):
                targets = self._targets(key, by_label)
                if targets:
                    start, end = _extended(doc, start, end, self._extend[key])
                for target in targets:
                    marks.setdefault(target, []).append((start, end, role))
            if marks:
                spans = [self._remarked(s, marks.get(s.label_)) for s in spans]
        spans.sort(key=lambda s: (s.start, s.end, s.label_))
        doc.spans[self.span_key] = spans
        return doc

    @staticmethod
    def _remarked(span: Span, marks: list[tuple[int, int, str]] | None) -> Span:
        for start, end, role in marks or ():
            if span.start < end and start < span.end and span.id_ != role:
                return Span(span.doc, span.start, span.end, label=span.label, span_id=role)
        return span

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


def sentence_facets(sent: Span, *, span_key: str = DEFAULT_SPAN_KEY, actors: bool = False) -> Facets:
    """The facets mentioned inside ``sent`` (sorted, de-duplicated names per kind).

    Actor matches (a sector named only as an institution or office) are left out
    unless ``actors`` is true. Needs ``doc.spans[span_key]`` sorted by start, as
    ``FacetMatcher`` leaves it; a doc the component has not seen gives empty facets.
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
        if span.end <= sent.end and (actors or span.id_ != ROLE_ACTOR):
            kind, _, name = span.label_.partition(":")
            if kind in found:
                found[kind].add(name)
        i += 1
    return Facets(**{kind: tuple(sorted(names)) for kind, names in found.items()})
