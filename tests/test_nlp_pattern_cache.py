"""Compiled cue tables and facet phrase tokens: cached on disk by content hash, matching exactly as before."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import spacy
from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc

from policylens import cache
from policylens.nlp import cues as cues_module
from policylens.nlp.cues import (
    CUE_SPANS,
    MARKER_SPANS,
    CueTagger,
    default_patterns_dir,
    expand_pattern,
    read_pattern_files,
)


class ReferenceTagger(CueTagger):
    """The tagger as it was before compiled tables: spaCy's PhraseMatcher over every phrase."""

    def _build(self) -> None:
        super()._build()
        from spacy.lang.en import English

        tokenizer = English().tokenizer
        self.reference = PhraseMatcher(self.vocab, attr="LOWER")
        for rows in self.pattern_files.values():
            for row in rows:
                pattern = row["pattern"]
                phrases = [[pattern]] if isinstance(pattern, str) else expand_pattern(pattern)
                if phrases is None:
                    continue
                docs = [Doc(self.vocab, words=words) for phrase in phrases
                        if (words := [t.text for part in phrase for t in tokenizer(part) if not t.is_space])]
                self.reference.add(f"{row['label']}|{row['id']}", docs)

    def _phrase_matches(self, doc: Doc) -> list[tuple[int, int, int]]:
        return list(self.reference(doc))


def generated_text(seed: int = 14, sentences: int = 400) -> str:
    """Sentences packed with cue phrases (every pattern's expansions, random case) and fillers."""
    rng = random.Random(seed)
    phrases: list[str] = []
    for rows in read_pattern_files(default_patterns_dir()).values():
        for row in rows:
            pattern = row["pattern"]
            expanded = [[pattern]] if isinstance(pattern, str) else expand_pattern(pattern) or []
            phrases += [" ".join(p) for p in rng.sample(expanded, min(3, len(expanded)))]
    fillers = ["the", "agency", "will", "not", "rather", "than", "but", ",", "systems", "and", "of"]
    out = []
    for _ in range(sentences):
        words = []
        for _ in range(rng.randint(4, 12)):
            word = rng.choice(phrases) if rng.random() < 0.5 else rng.choice(fillers)
            words.append(word.upper() if rng.random() < 0.1 else word)
        out.append(" ".join(words) + ".")
    return " ".join(out)


Found = tuple[list[tuple[str, str, int, int, bool]], list[tuple[str, int, int]]]


def found(nlp: Language, text: str) -> Found:
    doc = nlp(text)
    cue_spans = [(s.label_, s.id_, s.start, s.end, bool(s._.negated)) for s in doc.spans[CUE_SPANS]]
    markers = [(s.label_, s.start, s.end) for s in doc.spans[MARKER_SPANS]]
    return cue_spans, markers


def pipeline(factory: str = "policylens_cues") -> Language:
    nlp = spacy.blank("en")
    nlp.add_pipe(factory)
    return nlp


@Language.factory("reference_cues")
def _make_reference(nlp: Language, name: str) -> ReferenceTagger:
    return ReferenceTagger(nlp.vocab, pattern_files=read_pattern_files(default_patterns_dir()))


def cache_files() -> list[Path]:
    return sorted(cache.cache_dir().glob(f"{cues_module.CACHE_KIND}-*.json"))


def test_cached_tables_match_a_fresh_build_and_spacys_phrase_matcher() -> None:
    text = generated_text()
    assert not cache_files()
    fresh = found(pipeline(), text)  # compiles and writes the cache
    assert len(cache_files()) == 1
    cached = found(pipeline(), text)  # reads it back
    reference = found(pipeline("reference_cues"), text)
    assert len(fresh[0]) > 500 and any(negated for *_, negated in fresh[0]) and fresh[1]
    assert cached == fresh
    assert reference == fresh


SMALL = {"cues_demo.jsonl": [
    {"id": "central_authority", "label": "centralized", "pattern": [{"LOWER": {"IN": ["central", "single"]}},
                                                                   {"LOWER": "ai", "OP": "?"},
                                                                   {"LOWER": "authority"}]},
    {"id": "central_body", "label": "centralized", "pattern": "central authority"},
    {"id": "sector_regulators", "label": "sector_specific", "pattern": "sector-specific regulators"},
    {"id": "not", "label": "NEG", "pattern": "not"},
]}


def test_cache_is_read_not_rebuilt(monkeypatch: pytest.MonkeyPatch) -> None:
    first = cues_module.load_compiled(SMALL)
    assert len(cache_files()) == 1

    def boom(_: object) -> dict[str, object]:
        raise AssertionError("compiled again although the cache holds the tables")

    monkeypatch.setattr(cues_module, "compile_patterns", boom)
    assert cues_module.load_compiled(SMALL) == first
    # one phrase, two patterns: both keys kept, in the order spaCy's PhraseMatcher gives them
    group = first["keys"][first["phrases"]["central\x1fauthority"]].split("\x1f")
    assert sorted(group) == ["centralized|central_authority", "centralized|central_body"]
    assert first["phrases"]["sector\x1f-\x1fspecific\x1fregulators"] is not None


@pytest.mark.parametrize("damage", [
    "", "{not json", "\xff\xfe", '{"format": 1, "keys": [3]}',
    '{"format": 1, "keys": ["a"], "phrases": {"x": 7}, "lengths": {}, "matcher": []}'])
def test_a_damaged_cache_entry_is_rebuilt(damage: str) -> None:
    good = cues_module.load_compiled(SMALL)
    (entry,) = cache_files()
    entry.write_bytes(damage.encode("latin-1"))
    assert cues_module.load_compiled(SMALL) == good
    assert json.loads(entry.read_text(encoding="utf-8")) == good


def test_changed_patterns_get_their_own_entry() -> None:
    cues_module.load_compiled(SMALL)
    changed = {name: [*rows, {"id": "made_up_cue", "label": "centralized", "pattern": "zorblax authority"}]
               for name, rows in SMALL.items()}
    compiled = cues_module.load_compiled(changed)
    assert len(cache_files()) == 2
    assert "zorblax\x1fauthority" in compiled["phrases"]
    nlp = spacy.blank("en")
    tagger = CueTagger(nlp.vocab, pattern_files=changed)
    doc = tagger(nlp("The Zorblax Authority will not decide; a central AI authority will."))
    assert [(s.text, s.id_, s._.negated) for s in doc.spans[CUE_SPANS]] == [
        ("Zorblax Authority", "made_up_cue", False), ("central AI authority", "central_authority", False)]


def test_an_unwritable_cache_costs_time_not_results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("POLICYLENS_HOME", str(blocker))  # cache/ cannot be made under a file
    assert cues_module.load_compiled(SMALL)["phrases"]
    assert blocker.read_text() == "not a folder"


def facet_text(seed: int = 14) -> str:
    """Sentences made of facet phrases (with plural variants, random case) and fillers."""
    from policylens.nlp.facets import default_patterns, phrase_variants

    rng = random.Random(seed)
    phrases = [v for p in default_patterns() if isinstance(p.pattern, str)
               for v in phrase_variants(p.pattern, plural=p.plural)[:2]]
    fillers = ["the", "Department of", "shall", "report", "on", "and", ",", "in consultation with"]
    words = [rng.choice(phrases) if rng.random() < 0.5 else rng.choice(fillers) for _ in range(3000)]
    return " ".join(w.upper() if rng.random() < 0.05 else w for w in words) + "."


def test_facet_matches_are_the_same_from_the_token_cache() -> None:
    text = facet_text()

    def facets() -> list[tuple[str, str, int, int]]:
        nlp = spacy.blank("en")
        nlp.add_pipe("policylens_facets")
        doc = nlp(text)
        return [(s.label_, s.id_, s.start, s.end) for s in doc.spans["facets"]]

    fresh = facets()  # tokenizes every phrase variant and writes the cache
    assert len(list(cache.cache_dir().glob("facet-tokens-*.json"))) == 1
    assert len(fresh) > 500 and {role for _, role, _, _ in fresh} == {"domain", "actor"}
    assert facets() == fresh
