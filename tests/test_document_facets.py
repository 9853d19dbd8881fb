"""Document facets: their features, the JSON model files, training on an AGORA-shaped corpus written
here (the evaluation-only documents must leave no trace), and the decision with its evidence.

Every text below was written for these tests.
"""

from __future__ import annotations

import csv
import json
import pickle
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from policylens.errors import DataError, ModelError, UsageError
from policylens.nlp import facet_model
from policylens.nlp.agora_labels import (
    evaluation_only,
    family_labels,
    instrument_labels,
    matches_of,
    read_agora,
    sector_labels,
    split_records,
)
from policylens.nlp.document_facets import (
    FacetEvidence,
    FamilyFacets,
    document_facets,
    facets_from_dict,
    facets_to_dict,
    resolve_families,
)
from policylens.nlp.facet_features import MENTION_FEATURES, Vocabulary, document_features
from policylens.nlp.facet_model import (
    COMBINER_FEATURES,
    Combiner,
    FamilyModel,
    LabelModel,
    load_family,
    save_vocabulary,
)
from policylens.nlp.types import Facets, TaggedSentence
from policylens.rank.types import FrameworkScore


def sentence(i: int, text: str, *, sector: tuple[str, ...] = (), instrument: tuple[str, ...] = ()
             ) -> TaggedSentence:
    return TaggedSentence(doc="d.txt", sentence_id=i, text=text, label="neutral",
                          probs={"centralized": 0.1, "sector_specific": 0.1, "neutral": 0.8},
                          facets=Facets(sector=sector, instrument=instrument), page=i + 1)


# --- features -----------------------------------------------------------------------

VOCAB = Vocabulary(("bank", "hospital", "loan", "sandbox"), np.array([1.0, 2.0, 1.5, 3.0]))
SENTENCES = (
    sentence(0, "The bank checks every loan; the bank keeps records.", sector=("finance",)),
    sentence(1, "A hospital tests triage tools in a sandbox.", sector=("healthcare",),
             instrument=("sandbox_testbed",)),
    sentence(2, "Loan officers at the bank review appeals.", sector=("finance",)),
    sentence(3, "Nothing here is in the vocabulary."),
)


def test_document_tfidf_is_sublinear_idf_weighted_and_unit_length() -> None:
    f = document_features(SENTENCES, VOCAB)
    dense = f.dense()
    # bank 3x, hospital 1x, loan 2x, sandbox 1x
    raw = np.array([(1 + np.log(3)) * 1.0, 1 * 2.0, (1 + np.log(2)) * 1.5, 1 * 3.0])
    assert np.allclose(dense, raw / np.linalg.norm(raw))
    assert f.n_sentences == 4 and len(f.terms[3]) == 0
    assert f.sentence_matrix().toarray().tolist() == [[1, 0, 1, 0], [0, 1, 0, 1], [1, 0, 1, 0],
                                                      [0, 0, 0, 0]]


def test_mention_features_count_sentences_against_the_documents_top_value() -> None:
    f = document_features(SENTENCES, VOCAB)
    assert f.mention_counts() == {"sector:finance": 2, "sector:healthcare": 1,
                                  "instrument:sandbox_testbed": 1}
    health = f.mention_features(("sector:healthcare",))
    assert health.tolist() == pytest.approx([np.log(2), 0.5, np.sqrt(1 / 4), 0.0, 1.0, 0.0])
    finance = f.mention_features(("sector:finance",))
    assert finance.tolist() == pytest.approx([np.log(3), 1.0, np.sqrt(2 / 4), 1.0, 1.0, 1.0])
    # two matches: a sentence naming either counts once; no matches: all zero
    both = f.mention_features(("sector:finance", "sector:healthcare"))
    assert both[0] == pytest.approx(np.log(4))
    assert f.mention_features(()).tolist() == [0.0] * len(MENTION_FEATURES)


def test_empty_document_has_zero_features() -> None:
    f = document_features((), VOCAB)
    assert f.n_sentences == 0 and not f.dense().any()
    assert f.mention_features(("sector:finance",)).tolist() == [0.0] * len(MENTION_FEATURES)


# --- model files --------------------------------------------------------------------

def _label(name: str, matches: tuple[str, ...], words: list[float], *, mention: float = 1.0,
           threshold: float = 0.5) -> LabelModel:
    return LabelModel(name=name, matches=matches, intercept=-1.0, mention_mean=np.zeros(6),
                      mention_scale=np.ones(6), mention_coef=np.array([mention, 0, 0, 0, 0, 0.0]),
                      word_coef=np.array(words), calibration=(1.0, 0.0), threshold=threshold, support=9)


def hand_model() -> FamilyModel:
    return FamilyModel(family="sector", vocabulary=VOCAB, labels=(
        _label("finance", ("sector:finance",), [2.0, 0.0, 2.0, 0.0]),
        _label("healthcare", ("sector:healthcare",), [0.0, 3.0, 0.0, 0.0]),
        _label("transportation", ("sector:transportation",), [0.0, 0.0, 0.0, 0.0], threshold=0.9),
    ))


def test_model_round_trips_through_json_with_the_same_predictions(tmp_path: Path) -> None:
    model = hand_model()
    save_vocabulary(VOCAB, tmp_path)
    path = model.save(tmp_path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["format"] == "policylens-document-facets" and data["vocabulary"] == VOCAB.version
    assert [item["name"] for item in data["labels"]] == ["finance", "healthcare", "transportation"]
    loaded = load_family("sector", tmp_path)
    assert loaded.version == model.version == data["version"]
    f = document_features(SENTENCES, VOCAB)
    assert loaded.probabilities(f) == pytest.approx(model.probabilities(f))
    z = model.logits(f)
    expected = -1.0 + 2.0 * f.dense()[0] + 2.0 * f.dense()[2] + np.log(3)  # finance: words + log(1 + n)
    assert z[0] == pytest.approx(expected)


def test_decision_assigns_by_threshold_and_cites_matching_sentences(tmp_path: Path) -> None:
    save_vocabulary(VOCAB, tmp_path)
    hand_model().save(tmp_path)
    found = document_facets(SENTENCES, families="sector", directory=tmp_path)
    assert list(found) == ["sector"]
    sector = found["sector"]
    assert sector.labels == ("finance", "healthcare")  # most probable first; transportation under 0.9
    assert sector.probs["finance"] > sector.probs["healthcare"] > sector.probs["transportation"]
    assert sector.mentions == {"finance": 2, "healthcare": 1}
    # evidence: the sentences the matcher found, the one whose words weigh most first
    assert [e.sentence_id for e in sector.evidence["finance"]] == [0, 2]
    assert all(e.matched for e in sector.evidence["finance"])
    assert sector.evidence["healthcare"] == (FacetEvidence(1, SENTENCES[1].text, 2, True),)
    assert sector.model_version == hand_model().version


def combined_model() -> FamilyModel:
    """Words-only regressions under one combiner: log(1 + n) weighs 2, the word logit 1."""
    labels = tuple(replace(m, mention_coef=np.zeros(6)) for m in hand_model().labels)
    k = len(COMBINER_FEATURES)
    combiner = Combiner(mean=np.zeros(k), scale=np.ones(k), coef=np.array([2.0, 0, 0, 0, 0, 0, 1.0]),
                        intercepts={"finance": -3.0, "healthcare": -1.0, "transportation": -0.5})
    return replace(hand_model(), labels=labels, combiner=combiner)


def test_a_combiner_reads_each_values_mentions_and_word_logit_and_round_trips(tmp_path: Path) -> None:
    model = combined_model()
    f = document_features(SENTENCES, VOCAB)
    words = -1.0 + 2.0 * f.dense()[0] + 2.0 * f.dense()[2]  # finance's word regression
    assert model.logits(f)[0] == pytest.approx(-3.0 + 2.0 * np.log(3) + words)
    assert model.logits(f)[2] == pytest.approx(-0.5 + 0.0 - 1.0)  # transportation: no mention, no words
    assert model.version != hand_model().version
    save_vocabulary(VOCAB, tmp_path)
    model.save(tmp_path)
    facet_model._load.cache_clear()
    loaded = load_family("sector", tmp_path)
    assert loaded.combiner is not None and loaded.version == model.version
    assert loaded.probabilities(f) == pytest.approx(model.probabilities(f))
    found = document_facets(SENTENCES, families="sector", directory=tmp_path)["sector"]
    assert found.labels == ("healthcare", "finance")  # most probable first; transportation under 0.9
    # a combiner that reads other features, or misses a value's intercept, is refused
    data = model.to_dict()
    for key, value, message in [("features", ["log(1 + n)"], "the combiner reads"),
                                ("intercepts", {"finance": 0.0}, "intercepts do not name")]:
        broken = {**data, "combiner": {**data["combiner"], key: value}}
        (tmp_path / "sector.json").write_text(json.dumps(broken), encoding="utf-8")
        facet_model._load.cache_clear()
        with pytest.raises(ModelError, match=message):
            load_family("sector", tmp_path)
    facet_model._load.cache_clear()


def test_a_value_no_matcher_covers_cites_the_sentences_whose_words_weigh_for_it(tmp_path: Path) -> None:
    model = FamilyModel(family="agora", vocabulary=VOCAB, labels=(
        _label("Strategies: Pilots and testbeds", (), [0.0, 0.0, 0.0, 5.0], threshold=0.1),))
    save_vocabulary(VOCAB, tmp_path)
    model.save(tmp_path)
    found = document_facets(SENTENCES, families=["agora"], directory=tmp_path)["agora"]
    [evidence] = found.evidence["Strategies: Pilots and testbeds"]
    assert evidence.sentence_id == 1 and not evidence.matched


def test_unreadable_or_foreign_model_files_are_refused_never_unpickled(tmp_path: Path) -> None:
    save_vocabulary(VOCAB, tmp_path)
    (tmp_path / "sector.json").write_bytes(pickle.dumps({"format": "policylens-document-facets"}))
    with pytest.raises(ModelError, match="cannot read"):
        load_family("sector", tmp_path)
    data = hand_model().to_dict()
    for change, message in [({"format": "other"}, "not a policylens document facet model"),
                            ({"format_version": 99}, "format version 99"),
                            ({"vocabulary": "0123456789ab"}, "made for vocabulary"),
                            ({"labels": [{"name": "x"}]}, "malformed facet model")]:
        (tmp_path / "instrument.json").write_text(json.dumps({**data, **change}), encoding="utf-8")
        facet_model._load.cache_clear()  # the loader caches per folder and family
        with pytest.raises(ModelError, match=message):
            load_family("instrument", tmp_path)
    with pytest.raises(ModelError, match=r"agora\.json: facet model file not found"):
        load_family("agora", tmp_path)


def test_families_option() -> None:
    assert resolve_families(None) == ("sector", "instrument")
    assert resolve_families("none") == ()
    assert resolve_families("agora") == ("sector", "instrument", "agora")
    assert resolve_families(["agora", "sector"]) == ("sector", "agora")
    with pytest.raises(UsageError, match="unknown facet family 'sectors'"):
        resolve_families("sectors")


def test_document_facets_round_trip_on_a_framework_score() -> None:
    facets = {"sector": FamilyFacets(labels=("finance",), probs={"finance": 0.8, "healthcare": 0.1},
                                     evidence={"finance": (FacetEvidence(4, "Lenders must explain.", 2),)},
                                     mentions={"finance": 3}, model_version="abc")}
    score = FrameworkScore(doc="d", title="t", index=0.1, ci_low=0.0, ci_high=0.2, n_sentences=5,
                           counts={}, facets={}, document_facets=facets)
    back = FrameworkScore.from_dict(json.loads(json.dumps(score.to_dict())))
    assert back.document_facets == facets
    assert facets_from_dict(facets_to_dict(facets)) == facets
    assert FrameworkScore.from_dict({**score.to_dict(), "document_facets": None}).document_facets == {}


# --- AGORA labels -------------------------------------------------------------------

def test_agora_tags_map_onto_the_codebook_families() -> None:
    tags = {"Applications: Security", "Applications: Government: military and public safety",
            "Applications: Business services and analytics", "Strategies: Disclosure: In deployment",
            "Strategies: Government support: For R&D", "Harms: Discrimination"}
    assert sector_labels(tags) == {"defense_security"}  # two areas, one sector; business has none
    assert instrument_labels(tags) == {"transparency_disclosure", "funding_incentives"}
    assert family_labels("agora", tags) == tags
    assert matches_of("agora", "Applications: Security") == ("sector:defense_security",)
    assert matches_of("agora", "Strategies: Evaluation: External auditing") == \
        ("instrument:audit_assessment",)
    assert matches_of("agora", "Harms: Discrimination") == ()
    with pytest.raises(DataError, match="unknown facet family"):
        family_labels("style", tags)


# --- training on a small AGORA-shaped corpus -----------------------------------------

SECTORS = {
    "Medicine, life sciences and public health": [
        "Hospitals must validate diagnostic software before clinicians rely on it.",
        "A medical device that learns from patient records needs fresh clinical evidence.",
        "Patients are told when a triage tool ranks them.",
    ],
    "Finance and investment": [
        "Lenders using credit scoring models must explain each refused loan.",
        "Banks and insurers report model risk to the financial supervisor every quarter.",
        "A borrower may ask a person to review an automated credit decision.",
    ],
    "Transportation": [
        "Automated vehicles on public roads must log every disengagement.",
        "Operators of driverless buses report collisions to the road authority.",
        "Railway signalling software is certified before service.",
    ],
}
INSTRUMENTS = {
    "Strategies: Pilots and testbeds": "The regulator runs a regulatory sandbox where firms test products "
                                       "under supervision.",
    "Strategies: Evaluation: External auditing": "Providers commission an independent audit of their "
                                                 "systems every year.",
}
FILLER = ["This part sets out the definitions used below.", "The act enters into force next spring.",
          "Nothing in this act limits other duties."]
POISON = "Quillwort quillwort quillwort: every quillwort committee hears appeals from schools."


def _corpus(root: Path) -> Path:
    """An AGORA-shaped folder: 36 training documents, 3 unreviewed ones, 4 evaluation-only ones."""
    agora = root / "agora"
    (agora / "fulltext").mkdir(parents=True)
    areas = list(SECTORS)
    strategies = list(INSTRUMENTS)
    columns = ["AGORA ID", "Official name", "Annotated?", "Validated?",
               *(f"Applications: {a}" for a in [*areas, "Education"]), *strategies]
    rows = []
    for i in range(43):
        agora_id = str(100 + i)
        area, strategy = areas[i % 3], strategies[i % 2]
        kind = "eval" if i >= 39 else "unreviewed" if i >= 36 else "train"
        text = [*SECTORS[area][: 2 + i % 2], INSTRUMENTS[strategy], FILLER[i % 3]]
        tags = {f"Applications: {area}", strategy}
        if kind == "eval":  # evaluation-only: a word and a tag found nowhere in training
            text, tags = [POISON, *text], tags | {"Applications: Education"}
        if kind == "unreviewed":
            tags = set()
        (agora / "fulltext" / f"{agora_id}.txt").write_text(" ".join(text) + "\n", encoding="utf-8")
        rows.append({"AGORA ID": agora_id, "Official name": f"Act {i}",
                     "Annotated?": "false" if kind == "unreviewed" else "true",
                     "Validated?": "true" if i % 4 == 0 else "false",
                     **{c: str(c in tags) for c in columns[4:]}})
    with (agora / "documents.csv").open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    (root / "eval_documents.txt").write_text(
        "".join(f"agora/fulltext/{100 + i}.txt\n" for i in range(39, 43)) + "a_framework.txt\n",
        encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from policylens.nlp.train_facets import save_training, train_facets

    corpus = _corpus(tmp_path_factory.mktemp("corpus"))
    training = train_facets(corpus, families=("sector", "instrument"), workers=1)
    out = tmp_path_factory.mktemp("facets")
    save_training(training, out)
    return corpus, training, out


def test_corpus_reader_splits_training_unreviewed_and_evaluation(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path)
    records = read_agora(corpus / "agora" / "documents.csv", corpus / "agora" / "fulltext")
    human, unreviewed, evaluation = split_records(records, evaluation_only(corpus))
    assert (len(human), len(unreviewed), len(evaluation)) == (36, 3, 4)
    assert all("Applications: Education" in r.tags for r in evaluation)
    with pytest.raises(DataError, match="evaluation-only documents"):
        evaluation_only(tmp_path / "nowhere")


def test_training_never_reads_the_evaluation_only_documents(trained) -> None:  # type: ignore[no-untyped-def]
    _, training, _ = trained
    assert "quillwort" not in training.vocabulary.words  # their text was never read
    assert "education" not in training.models["sector"].names  # nor their tags
    data = training.card["training_data"]
    assert (data["human_tagged"], data["unreviewed"], data["evaluation_only_left_out"]) == (36, 3, 4)
    assert data["unreviewed_with_tags"] == 0
    assert training.models["sector"].meta["trained_on"] == 36


def test_trained_models_decide_new_documents(trained) -> None:  # type: ignore[no-untyped-def]
    from policylens.nlp import tag_text

    _, training, out = trained
    assert set(training.models["sector"].names) == {"healthcare", "finance", "transportation"}
    assert set(training.models["instrument"].names) == {"sandbox_testbed", "audit_assessment"}
    text = ("Clinicians in every hospital must check diagnostic software. Patients may ask how a triage "
            "tool ranked them. The regulator runs a regulatory sandbox for the tools.")
    found = document_facets(tag_text(text), directory=out)
    assert found["sector"].labels == ("healthcare",)
    assert "sandbox_testbed" in found["instrument"].labels
    assert "hospital" in found["sector"].evidence["healthcare"][0].text
    # sectors are decided by a combiner over the word regressions; instruments by their own regressions
    assert training.models["sector"].combiner is not None and training.models["instrument"].combiner is None
    assert not any(m.mention_coef.any() for m in training.models["sector"].labels)
    report = training.reports["sector"]
    assert report.micro["f1"] > 0.9  # separable texts: the cross-validation finds them
    assert set(report.labels) == {"healthcare", "finance", "transportation"}


def test_saved_models_are_json_with_a_model_card(trained) -> None:  # type: ignore[no-untyped-def]
    _, training, out = trained
    names = sorted(p.name for p in out.iterdir())
    assert names == ["MODEL_CARD.md", "instrument.json", "model_card.json", "sector.json", "vocabulary.json"]
    for name in names:
        if name.endswith(".json"):
            json.loads((out / name).read_text(encoding="utf-8"))
    card = (out / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert "| Finance and investment | finance |" in card
    assert "| audit_assessment | Strategies: Evaluation |" in card
    assert "4 evaluation-only documents" in card
    assert json.loads((out / "model_card.json").read_text())["models"]["sector"] == \
        training.models["sector"].version


def test_training_needs_an_agora_folder(tmp_path: Path) -> None:
    from policylens.nlp.train_facets import train_facets

    (tmp_path / "eval_documents.txt").write_text("", encoding="utf-8")
    with pytest.raises(DataError, match="cannot read AGORA documents"):
        train_facets(tmp_path)


# --- the bundled models in the ranking path ----------------------------------------

def test_analyze_attaches_the_bundled_document_facets(tmp_path: Path) -> None:
    from policylens.rank.analysis import analyze

    path = tmp_path / "plan.txt"
    path.write_text("Hospitals must validate diagnostic software before clinicians rely on it. Lenders "
                    "using credit scoring models must explain each refused loan. The agency will run a "
                    "regulatory sandbox and fund pilot projects.\n", encoding="utf-8")
    result = analyze(path)
    assert list(result.score.document_facets) == ["sector", "instrument"]
    sector = result.score.document_facets["sector"]
    assert "employment" not in sector.probs and {"healthcare", "finance"} <= set(sector.probs)
    texts = {s.sentence_id: s.text for s in result.tagged.sentences}
    for family in result.score.document_facets.values():
        assert set(family.labels) <= set(family.probs)
        for label in family.labels:
            assert family.evidence[label], label
            assert all(texts[e.sentence_id] == e.text for e in family.evidence[label])
    assert analyze(path, facets="none").score.document_facets == {}
    assert "agora" in analyze(path, facets="agora").score.document_facets
    again = replace(result.score, document_facets={})
    assert FrameworkScore.from_dict(again.to_dict()).document_facets == {}
