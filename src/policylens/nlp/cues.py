"""``policylens_cues``: governance cues with negation and contrast scope.

Cue patterns are data, not code: ``patterns/cues_*.jsonl``, one spaCy token
pattern (or a plain phrase, matched on lowercase text) per line::

    {"id": "existing_regulators", "label": "sector_specific", "pattern": [{"LOWER": "existing"}, ...]}

Labels are an approach (``centralized``, ``sector_specific``) for cues, or one of
the scope labels for the words that change what a cue means:

* ``NEG``: a negation or rejection ("not", "no", "without", "rejects"). Cues in
  the next ``max_scope`` tokens, up to a clause break (",", ";", "but" ...), are
  negated: "does not establish a new regulator", "no new regulator".
* ``REJECT``: the rejected side of a contrast ("rather than", "instead of").
  Cues after the marker up to a clause break are negated: "rather than a new
  AI regulator, existing regulators will ..." negates only the first cue.
* ``PSEUDO``: phrases with a negation word that negate nothing ("not only",
  "no later than", "without prejudice to").
* ``CONTRAST``: contrast markers ("but", "instead", "whereas"), counted as a
  feature by the classifier and ending negation scopes.

A negated cue is evidence for the *other* approach (codebook hard-case rules 1
and 2). The component sets ``doc.spans["cues"]`` (``label_`` = approach,
``id_`` = pattern id, ``span._.negated``) and ``doc.spans["cue_markers"]``
(``label_`` = scope label).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from spacy.attrs import LOWER
from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc, Span
from spacy.util import filter_spans
from spacy.vocab import Vocab

from policylens.atomic import write_text_atomic
from policylens.errors import ModelError
from policylens.labels import APPROACHES
from policylens.nlp.anchors import AnchorGate
from policylens.nlp.types import Cue

SCOPE_LABELS = ("NEG", "REJECT", "PSEUDO", "CONTRAST")
CUE_SPANS = "cues"
MARKER_SPANS = "cue_markers"
PATTERN_GLOB = "cues_*.jsonl"

# Tokens that end the scope of a negation or rejection: clause breaks and contrasts.
_SCOPE_BREAKS = frozenset(
    {",", ";", ":", ".", "!", "?", "(", ")", "but", "while", "whereas", "however", "instead",
     "rather", "although", "though", "yet", "so", "because", "which", "where"}
)


def default_patterns_dir() -> Path:
    """The cue patterns shipped with policylens."""
    return Path(str(resources.files("policylens.nlp") / "patterns"))


def read_pattern_files(directory: Path) -> dict[str, list[dict[str, Any]]]:
    """Read every ``cues_*.jsonl`` file of ``directory``: file name -> pattern rows."""
    files = sorted(Path(directory).glob(PATTERN_GLOB))
    if not files:
        raise ModelError(f"no cue pattern files ({PATTERN_GLOB}) in {directory}")
    out: dict[str, list[dict[str, Any]]] = {}
    for file in files:
        rows: list[dict[str, Any]] = []
        for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ModelError(f"{file.name} line {number}: not JSON ({exc.msg})") from None
            _check_row(row, f"{file.name} line {number}")
            rows.append(row)
        out[file.name] = rows
    return out


def _check_row(row: Any, where: str) -> None:
    if not isinstance(row, dict) or not {"id", "label", "pattern"} <= row.keys():
        raise ModelError(f"{where}: a cue pattern needs 'id', 'label' and 'pattern'")
    if row["label"] not in (*APPROACHES, *SCOPE_LABELS):
        raise ModelError(f"{where}: unknown label {row['label']!r}")
    if not isinstance(row["pattern"], str | list):
        raise ModelError(f"{where}: 'pattern' must be a phrase or a list of token patterns")


class CueTagger:
    """Finds governance cues and marks the ones inside negation or contrast scope."""

    def __init__(self, vocab: Vocab, *, pattern_files: Mapping[str, Sequence[dict[str, Any]]],
                 max_scope: int = 8) -> None:
        self.vocab = vocab
        self.max_scope = max_scope
        self.pattern_files = {name: list(rows) for name, rows in pattern_files.items()}
        self._build()

    def _build(self) -> None:
        # Token patterns made only of LOWER values, IN lists and optional tokens are expanded
        # into phrases, matched by one dict lookup per candidate span (a Matcher would call a
        # Python predicate per IN list per token, about 50x slower on long texts). Expanding
        # and tokenizing the phrases is the slow part of a start, so its result is cached on
        # disk by content hash (``compile_patterns``).
        compiled = load_compiled(self.pattern_files)
        self.matcher = Matcher(self.vocab, validate=True)
        # One matcher key per (label, id): the match tells us both without a lookup table.
        self._keys: dict[int, tuple[str, str]] = {}
        for rows in self.pattern_files.values():
            for row in rows:
                self._keys[self.vocab.strings.add(f"{row['label']}|{row['id']}")] = (row["label"], row["id"])
        self._gate = AnchorGate(self.vocab)  # most docs hold no word these patterns need
        for key_name, pattern in compiled["matcher"]:
            try:
                self.matcher.add(key_name, [pattern])
            except ValueError as exc:
                raise ModelError(f"cue pattern {key_name.split('|', 1)[1]!r}: {exc}") from None
            self._gate.add(pattern)
        add = self.vocab.strings.add
        self._groups = [tuple(add(k) for k in group.split(_SEP)) for group in compiled["keys"]]
        self._phrases: dict[str, int] = compiled["phrases"]
        # First words by their string id: a doc's LOWER ids come as one array, and only the
        # few tokens that start a phrase need their strings.
        self._lengths: dict[int, list[int]] = {add(w): n for w, n in compiled["lengths"].items()}

    def _phrase_matches(self, doc: Doc) -> list[tuple[int, int, int]]:
        """``(key, start, end)`` of every phrase match, as spaCy's ``PhraseMatcher`` on LOWER gives."""
        ids = doc.to_array(LOWER).tolist()
        strings = doc.vocab.strings
        phrases, lengths, groups, join = self._phrases, self._lengths, self._groups, _SEP.join
        out: list[tuple[int, int, int]] = []
        n = len(ids)
        for i, word in enumerate(ids):
            sizes = lengths.get(word)
            if sizes is None:
                continue
            for size in sizes:
                if i + size > n:
                    break
                group = phrases.get(join([strings[w] for w in ids[i:i + size]]))
                if group is not None:
                    out.extend((key, i, i + size) for key in groups[group])
        return out

    @property
    def patterns(self) -> list[dict[str, Any]]:
        return [row for rows in self.pattern_files.values() for row in rows]

    def __call__(self, doc: Doc) -> Doc:
        matches = self._phrase_matches(doc)
        if len(self.matcher) and self._gate.may_match(doc):
            matches += self.matcher(doc)
        cues: dict[str, list[Span]] = {approach: [] for approach in APPROACHES}
        markers: dict[str, list[Span]] = {label: [] for label in SCOPE_LABELS}
        for key, start, end in matches:
            label, pattern_id = self._keys[key]
            span = Span(doc, start, end, label=label, span_id=pattern_id)
            (cues[label] if label in cues else markers[label]).append(span)
        pseudo = {i for span in markers["PSEUDO"] for i in range(span.start, span.end)}
        negations = [s for s in filter_spans(markers["NEG"]) if s.start not in pseudo]
        rejects = filter_spans(markers["REJECT"])
        scopes = [self._scope(doc, span.end, self.max_scope) for span in negations]
        scopes += [self._scope(doc, span.end, 2 * self.max_scope) for span in rejects]
        found: list[Span] = []
        for approach in APPROACHES:
            for span in filter_spans(cues[approach]):
                span._.negated = any(lo <= span.start < hi for lo, hi in scopes)
                found.append(span)
        found.sort(key=lambda s: (s.start, s.end))
        doc.spans[CUE_SPANS] = found
        doc.spans[MARKER_SPANS] = sorted(
            [*negations, *rejects, *filter_spans(markers["CONTRAST"])], key=lambda s: s.start)
        return doc

    @staticmethod
    def _scope(doc: Doc, begin: int, width: int) -> tuple[int, int]:
        end = min(len(doc), begin + width)
        for i in range(begin, end):
            if doc[i].lower_ in _SCOPE_BREAKS and i > begin:
                return begin, i
        return begin, end

    def to_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> None:
        """Write the pattern files and settings to ``path``, each file atomically.

        ``from_disk`` reads every ``cues_*.jsonl`` of the folder, so pattern files this
        tagger does not have are removed, but only once the new ones are in place: a
        failure part-way leaves the old files whole, never a truncated one.
        """
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        for name, rows in self.pattern_files.items():
            lines = [json.dumps(row, ensure_ascii=False) + "\n" for row in rows]  # fails before writing
            write_text_atomic(path / name, "".join(lines))
        write_text_atomic(path / "cfg.json", json.dumps({"max_scope": self.max_scope}))
        for stale in sorted(set(path.glob(PATTERN_GLOB)) - {path / name for name in self.pattern_files}):
            stale.unlink()

    def from_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> CueTagger:
        path = Path(path)
        cfg_file = path / "cfg.json"
        if cfg_file.exists():
            self.max_scope = int(json.loads(cfg_file.read_text(encoding="utf-8"))["max_scope"])
        self.pattern_files = read_pattern_files(path)
        self._build()
        return self


#: Bump when the compiled form or the way it is made changes (old cache entries are then unused).
COMPILED_FORMAT = 1
CACHE_KIND = "cues"
_SEP = "\x1f"  # joins words and keys in the compiled form (no token holds it)


def load_compiled(pattern_files: Mapping[str, Sequence[Mapping[str, Any]]]) -> dict[str, Any]:
    """``compile_patterns(pattern_files)``, from the on-disk cache when it holds a valid entry."""
    from spacy import about

    from policylens import cache

    key = cache.content_key(COMPILED_FORMAT, about.__version__, list(pattern_files.items()))
    entry = cache.read_entry(CACHE_KIND, key)
    if _valid_compiled(entry):
        return entry  # type: ignore[return-value]
    compiled = compile_patterns(pattern_files)
    cache.write_entry(CACHE_KIND, key, compiled)
    return compiled


def _valid_compiled(entry: Any) -> bool:
    """Whether a cache entry has the compiled form's shape (anything else is rebuilt)."""
    if not isinstance(entry, dict) or entry.get("format") != COMPILED_FORMAT:
        return False
    keys, phrases, lengths, matcher = (entry.get(k) for k in ("keys", "phrases", "lengths", "matcher"))
    if not (isinstance(keys, list) and isinstance(phrases, dict) and isinstance(lengths, dict)
            and isinstance(matcher, list)):
        return False
    # Whole-container checks at C speed: a start must not pay a Python loop over every phrase.
    indexes = set(phrases.values())
    sizes = {n for ns in lengths.values() if isinstance(ns, list) for n in ns}
    return (set(map(type, keys)) <= {str} and all(keys)
            and set(map(type, phrases)) <= {str} and set(map(type, indexes)) <= {int}
            and (not indexes or (min(indexes) >= 0 and max(indexes) < len(keys)))
            and set(map(type, lengths.values())) <= {list} and set(map(type, sizes)) <= {int}
            and all(isinstance(item, list) and len(item) == 2 and isinstance(item[0], str)
                    and isinstance(item[1], list) for item in matcher))


def compile_patterns(pattern_files: Mapping[str, Sequence[Mapping[str, Any]]]) -> dict[str, Any]:
    """The matching tables of cue patterns, as plain JSON data.

    ``keys``: groups of matcher keys (joined by U+001F), each in the order spaCy's
    ``PhraseMatcher`` reports them for one phrase (which match wins a tie in
    ``filter_spans``, so which pattern id a cue gets, depends on it). ``phrases``: each
    phrase (lowercase words joined by U+001F) -> its group of keys. ``lengths``: first word
    -> the lengths of the phrases starting with it, shortest first. ``matcher``:
    ``[[key, token pattern]]`` for the patterns that need spaCy's ``Matcher``.
    """
    from spacy.lang.en import English

    nlp = English()
    split_cache: dict[str, list[str]] = {}

    def split(text: str) -> list[str]:
        """Words as the tokenizer will see them ("sector-specific" -> sector, -, specific)."""
        if text not in split_cache:
            split_cache[text] = [t.text for t in nlp.tokenizer(text) if not t.is_space]
        return split_cache[text]

    phrase_matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
    token_patterns: list[list[Any]] = []
    keys_of: dict[tuple[str, ...], list[str]] = {}
    for rows in pattern_files.values():
        for row in rows:
            key_name = f"{row['label']}|{row['id']}"
            pattern = row["pattern"]
            phrases = [[pattern]] if isinstance(pattern, str) else expand_pattern(pattern)
            if phrases is None:
                token_patterns.append([key_name, pattern])
                continue
            docs = []
            for phrase in phrases:
                words = [w for part in phrase for w in split(part)]
                if words:
                    doc = Doc(nlp.vocab, words=words)
                    docs.append(doc)
                    found = keys_of.setdefault(tuple(t.lower_ for t in doc), [])
                    if key_name not in found:
                        found.append(key_name)
            phrase_matcher.add(key_name, docs)
    groups: dict[str, int] = {}
    table: dict[str, int] = {}
    lengths: dict[str, set[int]] = {}
    for lowered, key_names in keys_of.items():
        if any(_SEP in w for w in (*lowered, *key_names)):
            raise ModelError(f"cue phrase {' '.join(lowered)!r}: a word holds the character U+001F")
        if len(key_names) > 1:  # the PhraseMatcher's own order among the keys of one phrase
            whole = phrase_matcher(Doc(nlp.vocab, words=list(lowered)))
            order = [nlp.vocab.strings[k] for k, start, end in whole if start == 0 and end == len(lowered)]
            key_names = list(dict.fromkeys(order))
        group = groups.setdefault(_SEP.join(key_names), len(groups))
        table[_SEP.join(lowered)] = group
        lengths.setdefault(lowered[0], set()).add(len(lowered))
    return {"format": COMPILED_FORMAT, "keys": list(groups), "phrases": table,
            "lengths": {w: sorted(n) for w, n in lengths.items()}, "matcher": token_patterns}


MAX_EXPANSIONS = 20_000


def expand_pattern(pattern: Sequence[Mapping[str, Any]]) -> list[list[str]] | None:
    """All phrases a LOWER-only token pattern can match, or ``None`` if it is not that simple."""
    phrases: list[list[str]] = [[]]
    for token in pattern:
        if set(token) - {"LOWER", "OP"} or token.get("OP", "?") != "?":
            return None
        value = token["LOWER"]
        if isinstance(value, str):
            options = [value]
        elif isinstance(value, Mapping) and set(value) == {"IN"}:
            options = [str(v) for v in value["IN"]]
        else:
            return None
        grown = [[*p, o] for p in phrases for o in options]
        if "OP" in token:
            grown += phrases
        phrases = grown
        if len(phrases) > MAX_EXPANSIONS:
            return None
    return [p for p in phrases if p]


def register_extensions() -> None:
    """The ``Span._.negated`` flag (spaCy's registry is the only global touched)."""
    if not Span.has_extension("negated"):
        Span.set_extension("negated", default=False)


@Language.factory("policylens_cues", default_config={"patterns_dir": None, "max_scope": 8})
def make_cues(nlp: Language, name: str, *, patterns_dir: str | None, max_scope: int) -> CueTagger:
    """Factory of the cue tagger; ``patterns_dir`` defaults to the shipped patterns."""
    register_extensions()
    directory = Path(patterns_dir) if patterns_dir else default_patterns_dir()
    return CueTagger(nlp.vocab, pattern_files=read_pattern_files(directory), max_scope=max_scope)


def cues_by_sentence(doc: Doc, sents: Sequence[Span]) -> list[tuple[Cue, ...]]:
    """The cues of each sentence of ``doc`` in one pass (``sents`` in document order)."""
    import bisect

    out: list[list[Cue]] = [[] for _ in sents]
    if CUE_SPANS not in doc.spans:
        return [() for _ in sents]
    starts = [s.start for s in sents]
    for span in doc.spans[CUE_SPANS]:
        i = bisect.bisect_right(starts, span.start) - 1
        if i >= 0 and span.start < sents[i].end:
            base = sents[i].start_char
            out[i].append(Cue(text=span.text, approach=span.label_,
                              negated=bool(span._.negated), start=span.start_char - base,
                              end=span.end_char - base))
    return [tuple(c) for c in out]


def sentence_cues(sent: Span) -> tuple[Cue, ...]:
    """The cues inside one sentence as ``Cue`` objects (offsets relative to the sentence)."""
    doc = sent.doc
    if CUE_SPANS not in doc.spans:
        return ()
    base = sent.start_char
    return tuple(
        Cue(text=span.text, approach=span.label_, negated=bool(span._.negated),
            start=span.start_char - base, end=span.end_char - base)
        for span in doc.spans[CUE_SPANS]
        if sent.start <= span.start < sent.end
    )
