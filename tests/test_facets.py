"""The policylens_facets component: matches, traps, sentence facets, serialization."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import spacy
from spacy.language import Language

from policylens.errors import ModelError
from policylens.labels import FACET_KINDS
from policylens.nlp.facets import (
    FacetMatcher,
    FacetPattern,
    default_patterns,
    phrase_variants,
    read_patterns,
    sentence_facets,
)
from policylens.nlp.types import Facets


@pytest.fixture(scope="module")
def nlp() -> Language:
    pipeline = spacy.blank("en")
    pipeline.add_pipe("sentencizer")
    pipeline.add_pipe("policylens_facets")
    return pipeline


def _labels(nlp: Language, text: str, key: str = "facets") -> set[str]:
    doc = nlp(text)  # keep the Doc alive while its span group is read
    return {span.label_ for span in doc.spans[key]}


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("The agency reviews every medical device that uses machine learning.", "sector:healthcare"),
        ("Hospitals must document how triage models are validated.", "sector:healthcare"),
        ("Lenders may not rely on opaque credit scoring.", "sector:finance"),
        ("Self-driving cars need a safety case before road trials.", "sector:transportation"),
        ("Self driving cars need a safety case.", "sector:transportation"),
        ("Tools that screen hiring decisions must be audited.", "sector:employment"),
        ("Predictive policing tools were banned in the city.", "sector:law_enforcement_justice"),
        ("The Department of Defense will field autonomous weapon systems.", "sector:defense_security"),
        ("Operators of critical infrastructure must report incidents.", "sector:energy_infrastructure"),
        ("Broadband providers use AI to route traffic on the network.", "sector:telecommunications"),
        ("Farmers use precision agriculture to plan irrigation.", "sector:agriculture"),
        ("Federal agencies must inventory their AI use cases.", "sector:public_sector"),
        ("Retailers deploying dynamic pricing must tell shoppers.", "sector:consumer_retail"),
        ("A deepfake of a candidate may not be published before an election.", "sector:media_elections"),
        ("Teachers may use the tool in the classroom.", "sector:education"),
        ("The Financial Conduct Authority supervises AI in FINMA-like ways.", "sector:finance"),
        ("The treaty sets binding obligations for all countries.", "level:global"),
        ("The European Union adopted harmonised rules.", "level:regional"),
        ("State legislatures passed their own AI laws.", "level:subnational"),
        ("The federal government will set one national standard.", "level:national"),
        ("Providers shall register the system in the EU database.", "instrument:licensing_registration"),
        ("Deployers must complete an impact assessment.", "instrument:audit_assessment"),
        ("The regulator will run a regulatory sandbox for insurers.", "instrument:sandbox_testbed"),
        ("New export controls apply to advanced chips.", "instrument:export_controls"),
        ("Companies signed voluntary commitments on red-teaming.", "instrument:voluntary_commitment"),
        ("Regulators should take an outcome-based approach.", "style:performance_based"),
        ("The code of practice is non-binding.", "style:voluntary"),
        ("Providers shall keep logs.", "style:binding"),
    ],
)
def test_known_sentence_gets_its_facet(nlp: Language, text: str, label: str) -> None:
    assert label in _labels(nlp, text)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("We walked along the river bank after the storm.", "sector"),
        ("This school of thought holds that markets self-correct.", "sector"),
        ("Copy the weights to a USB drive before you drive home.", "sector"),
        ("Her legal defense rested on the right to appeal.", "sector"),
        ("The Committee on Commerce, Science, and Transportation received the report.", "sector"),
        ("Call the telephone number listed on the form.", "sector"),
        ("The board has five voting members.", "sector"),
        ("Section 12 of the Energy Policy Act of 2005 is amended.", "sector"),
        ("Teams fine-tune models on real-world data.", "style"),
        ("Teams fine-tune models on real-world data.", "level"),
    ],
)
def test_trap_sentence_gets_no_facet_of_that_kind(nlp: Language, text: str, kind: str) -> None:
    assert not {label for label in _labels(nlp, text) if label.startswith(kind + ":")}


def test_spans_are_sorted_and_labels_are_codebook_names(nlp: Language) -> None:
    doc = nlp("Banks and insurers must audit credit scoring. Hospitals and schools too.")
    spans = list(doc.spans["facets"])
    assert spans == sorted(spans, key=lambda s: (s.start, s.end, s.label_))
    for span in spans:
        kind, _, name = span.label_.partition(":")
        assert name in FACET_KINDS[kind]


def test_longest_match_wins_within_a_label(nlp: Language) -> None:
    doc = nlp("The medical device maker was fined.")
    health = [s.text for s in doc.spans["facets"] if s.label_ == "sector:healthcare"]
    assert health == ["medical device"]


def test_sentence_facets_are_per_sentence_sorted_and_unique(nlp: Language) -> None:
    doc = nlp(
        "Hospitals, clinicians and lenders using credit scoring must register. "
        "Nothing here. "
        "The European Union and the United Nations will cooperate."
    )
    first, second, third = list(doc.sents)
    facets = sentence_facets(first)
    assert facets.sector == ("finance", "healthcare")
    assert "licensing_registration" in facets.instrument
    assert "binding" in facets.style
    assert sentence_facets(second) == Facets()
    assert sentence_facets(third).level == ("global", "regional")
    assert sentence_facets(third).sector == ()


def test_sentence_facets_on_a_doc_without_the_component_is_empty() -> None:
    plain = spacy.blank("en")
    plain.add_pipe("sentencizer")
    doc = plain("Hospitals use AI.")
    assert sentence_facets(doc[:]) == Facets()


def test_phrase_variants_add_plural_and_hyphen_forms() -> None:
    assert phrase_variants("autonomous vehicle") == ["autonomous vehicle", "autonomous vehicles"]
    assert phrase_variants("regulatory sandbox") == ["regulatory sandbox", "regulatory sandboxes"]
    assert phrase_variants("agency", plural=True)[-1] == "agencies"
    assert phrase_variants("financial services") == ["financial services"]
    assert "e commerce" in phrase_variants("e-commerce")


def test_shipped_patterns_cover_every_facet_name() -> None:
    labels = {p.label for p in default_patterns() if not p.veto}
    expected = {f"{kind}:{name}" for kind, names in FACET_KINDS.items() for name in names}
    assert expected <= labels
    sector_phrases = [p for p in default_patterns() if p.kind == "sector" and not p.veto]
    assert len(sector_phrases) > 500


def test_bad_pattern_file_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(
        '{"label": "sector:finance", "pattern": "credit union"}\n'
        '{"label": "sector:mining", "pattern": "ore"}\n',
        encoding="utf-8",
    )
    with pytest.raises(ModelError, match=r"bad\.jsonl:2: unknown facet label 'sector:mining'"):
        read_patterns(path)
    path.write_text("{not json\n", encoding="utf-8")
    with pytest.raises(ModelError, match="line 1: invalid JSON"):
        read_patterns(path)


def test_custom_patterns_path_token_pattern_and_wildcard_veto(tmp_path: Path) -> None:
    rows = [
        {"label": "sector:finance", "pattern": "credit union"},
        {"label": "sector:agriculture", "pattern": [{"LOWER": "grain"}, {"LOWER": "silo"}]},
        {"label": "sector:*", "pattern": "Credit Union Act", "veto": True},
    ]
    path = tmp_path / "mine.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    custom = spacy.blank("en")
    custom.add_pipe("policylens_facets", config={"patterns_path": str(path)})
    doc = custom("A credit union owns a grain silo.")
    found = [(s.text, s.label_) for s in doc.spans["facets"]]
    assert found == [("credit union", "sector:finance"), ("grain silo", "sector:agriculture")]
    assert not _labels(custom, "Under the Federal Credit Union Act, nothing changes.")
    # Shipped patterns are not loaded when a path is given.
    assert not _labels(custom, "Hospitals use AI.")


def _small_matcher_nlp() -> Language:
    small = spacy.blank("en")
    component = small.add_pipe("policylens_facets", config={"span_key": "mine"})
    assert isinstance(component, FacetMatcher)
    component.set_patterns(
        [
            FacetPattern.from_dict({"label": "sector:agriculture", "pattern": "seed bank"}),
            FacetPattern.from_dict({"label": "level:national", "pattern": "NSA", "attr": "ORTH"}),
        ]
    )
    return small


def test_to_disk_from_disk_round_trip_keeps_patterns_and_key(tmp_path: Path) -> None:
    small = _small_matcher_nlp()
    small.to_disk(tmp_path / "pipe")
    saved = (tmp_path / "pipe" / "policylens_facets" / "patterns.jsonl").read_text(encoding="utf-8")
    assert '"seed bank"' in saved
    assert not list((tmp_path / "pipe").rglob("*.pkl"))
    loaded = spacy.load(tmp_path / "pipe")
    doc = loaded("The seed bank briefed the NSA, not the nsa.")
    assert [(s.text, s.label_) for s in doc.spans["mine"]] == [
        ("seed bank", "sector:agriculture"),
        ("NSA", "level:national"),
    ]
    assert not _labels(loaded, "Hospitals use AI.", "mine")  # the defaults were replaced by the saved list


def test_to_bytes_from_bytes_round_trip() -> None:
    small = _small_matcher_nlp()
    fresh = spacy.blank("en")
    fresh.add_pipe("policylens_facets")
    fresh.from_bytes(small.to_bytes())
    assert _labels(fresh, "A seed bank.", "mine") == {"sector:agriculture"}
    with pytest.raises(ModelError):
        fresh.get_pipe("policylens_facets").from_bytes(b"\xff not json")


def test_entry_point_lets_any_blank_pipeline_add_the_component() -> None:
    code = (
        "import spacy\n"
        "nlp = spacy.blank('en')\n"
        "nlp.add_pipe('policylens_facets')\n"
        "doc = nlp('Insurers use credit scoring.')\n"
        "print(sorted({s.label_ for s in doc.spans['facets']}))\n"
        "seg = spacy.blank('en')\n"
        "seg.add_pipe('policylens_sentences')\n"
        "doc = seg('The Office shall act. Each agency shall report.')\n"
        "print('sentences:', [s.text for s in doc.sents])\n"
    )
    # A fresh interpreter that never imports policylens itself: spaCy must find the factories
    # through the spacy_factories entry points.
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "sector:finance" in result.stdout
    assert "sentences: ['The Office shall act.', 'Each agency shall report.']" in result.stdout


# --- roles: a sector named only as a regulator or office is an actor, not a mention --------------


def _sector_roles(nlp: Language, text: str) -> list[tuple[str, str, str]]:
    doc = nlp(text)
    return [(s.text, s.label_[7:], s.id_) for s in doc.spans["facets"] if s.label_.startswith("sector:")]


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("The Federal Trade Commission shall revise its telemarketing rule.", "Federal Trade Commission"),
        ("Complaints go to the FCC within ninety days.", "FCC"),
        ("The Department of Consumer Affairs licenses the boards.", "Consumer"),
        ("The Commissioner of Banking and Insurance shall adopt rules.", "Banking"),
        ("The Office of Educational Technology publishes guidance.", "Educational Technology"),
        (
            "The Administrator, in consultation with the Secretary of Education, shall act.",
            "Secretary of Education",
        ),
        ("The agency shall notify the heads of the transportation agencies.", "transportation"),
    ],
)
def test_regulators_and_consulted_offices_are_actors(nlp: Language, text: str, phrase: str) -> None:
    found = {(t, role) for t, _sector, role in _sector_roles(nlp, text)}
    assert (phrase, "actor") in found
    assert not any(role == "domain" for _t, role in found), found
    assert sentence_facets(next(nlp(text).sents)).sector == ()
    assert sentence_facets(next(nlp(text).sents), actors=True).sector != ()


@pytest.mark.parametrize(
    ("text", "sector"),
    [
        # The regulated parties and the activity are the domain.
        ("Insurers using underwriting models must test them for bias.", "finance"),
        ("Hospitals must validate triage software before use.", "healthcare"),
        # Operating institutions are the sector itself, also inside official names.
        ("The Secretary of Defense shall field autonomous weapon systems.", "defense_security"),
        ("The Department of Defense will test targeting software.", "defense_security"),
        # A chief AI officer runs the agency's own use of AI: government operating AI.
        ("The Chief Artificial Intelligence Officer shall inventory the uses of AI.", "public_sector"),
    ],
)
def test_regulated_parties_and_operating_institutions_stay_domain(
    nlp: Language, text: str, sector: str
) -> None:
    assert sentence_facets(next(nlp(text).sents)).sector == (sector,)


def test_a_domain_mention_beside_an_actor_still_counts(nlp: Language) -> None:
    text = "The Federal Communications Commission shall study how carriers use AI on broadband networks."
    roles = _sector_roles(nlp, text)
    assert ("Federal Communications Commission", "telecommunications", "actor") in roles
    assert ("broadband", "telecommunications", "domain") in roles
    assert sentence_facets(next(nlp(text).sents)).sector == ("telecommunications",)


@pytest.mark.parametrize(
    ("text", "sector"),
    [
        # The public sector as one stakeholder beside the private sector.
        (
            "Entities from academia, civil society, the private sector, and/or the public sector may sign.",
            "public_sector",
        ),
        ("Partners from the public and private sectors will share data.", "public_sector"),
        ("The program builds public-private partnerships.", "public_sector"),
        # Education meaning public awareness.
        ("The agency shall run a public education campaign on synthetic voices.", "education"),
        # The energy use of AI hardware is not the energy sector.
        ("Research shall improve the energy efficiency of advanced computing.", "energy_infrastructure"),
        # A telephone as a contact channel.
        ("Decisions are communicated to providers by telephone or in writing.", "telecommunications"),
        # A credit-reporting term, and the title of a rule.
        ("The set of data in a consumer report is sensitive.", "consumer_retail"),
        ("The Commission shall revise the Telemarketing Sales Rule.", "consumer_retail"),
    ],
)
def test_incidental_sector_words_name_no_sector(nlp: Language, text: str, sector: str) -> None:
    assert sector not in sentence_facets(next(nlp(text).sents), actors=True).sector


def test_agencies_only_coordinated_with_are_actors_and_agencies_using_ai_are_not(nlp: Language) -> None:
    coordinated = "The Director shall consult and coordinate with other relevant Federal agencies."
    assert ("Federal agencies", "public_sector", "actor") in _sector_roles(nlp, coordinated)
    assert sentence_facets(next(nlp(coordinated).sents)).sector == ()
    using = "Federal agencies shall publish an inventory of their AI use cases."
    assert sentence_facets(next(nlp(using).sents)).sector == ("public_sector",)
    assert sentence_facets(next(nlp("Credit reports and consumer reports feed the model.").sents)).sector == (
        "finance",
    )


@pytest.mark.parametrize(
    ("text", "sector"),
    [
        ("The program offers loan guarantees and direct loans to chip makers.", "finance"),
        ("Scholarship loans must be repaid if service ends early.", "finance"),
        ("No one may be treated differently because of military or veteran status.", "defense_security"),
    ],
)
def test_funding_loans_and_protected_characteristics_name_no_sector(
    nlp: Language, text: str, sector: str
) -> None:
    assert f"sector:{sector}" not in _labels(nlp, text)


def test_marks_with_extend_and_spare_in_custom_patterns(tmp_path: Path) -> None:
    rows = [
        {"label": "sector:finance", "pattern": "banking"},
        {"label": "sector:defense_security", "pattern": "defense"},
        {
            "label": "sector:*",
            "pattern": "Office of",
            "attr": "ORTH",
            "mark": "actor",
            "extend": "name_after",
            "spare": ["sector:defense_security"],
        },
    ]
    path = tmp_path / "marks.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    custom = spacy.blank("en")
    custom.add_pipe("policylens_facets", config={"patterns_path": str(path)})
    doc = custom("The Office of Banking and Defense Policy reviews banking.")
    roles = [(s.text, s.id_) for s in doc.spans["facets"]]
    assert roles == [("Banking", "actor"), ("Defense", "domain"), ("banking", "domain")]
    # The round trip keeps marks, extensions and spared labels.
    fresh = spacy.blank("en")
    fresh.add_pipe("policylens_facets")
    fresh.from_bytes(custom.to_bytes())
    again = fresh("The Office of Banking and Defense Policy reviews banking.")
    assert [(s.text, s.id_) for s in again.spans["facets"]] == roles


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"label": "sector:finance", "pattern": "bank", "role": "boss"}, "'role' must be one of"),
        ({"label": "sector:finance", "pattern": "b", "mark": "actor", "veto": True}, "veto or a mark"),
        ({"label": "sector:*", "pattern": "Office of", "mark": "actor", "extend": "far"}, "'extend' needs"),
        ({"label": "sector:finance", "pattern": "x", "mark": "actor", "spare": ["sector:health"]}, "'spare'"),
        ({"label": "sector:*", "pattern": "bank"}, "unknown facet label"),
    ],
)
def test_bad_role_mark_extend_or_spare_is_rejected(row: dict[str, object], message: str) -> None:
    with pytest.raises(ModelError, match=message):
        FacetPattern.from_dict(row)
