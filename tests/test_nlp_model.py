"""Training, the held-out split, the model format and its refusal of mismatched models."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from policylens.errors import DataError, ModelError
from policylens.labels import LABELS
from policylens.nlp.annotations import load_annotations, split, split_of, stats, stats_markdown
from policylens.nlp.model import MODEL_FILE, GovernanceModel, default_model_dir
from policylens.nlp.pipeline import build_pipeline
from policylens.nlp.train import em_priors, train

# Sentences written for these tests: small, unambiguous, eight per label and template.
CENTRAL = [
    "A single national AI authority will license every AI system sold in the {} market.",
    "The new horizontal AI law sets uniform obligations for all AI providers in {}.",
    "One federal standard will preempt the patchwork of state AI rules in {}.",
    "A binding international treaty on AI will create common rules for {} and its partners.",
]
SECTOR = [
    "Existing regulators in {} will apply their own rules to AI within their remits.",
    "The {} banking supervisor will issue sector-specific guidance on AI in lending.",
    "Rather than creating a new AI regulator, {} will rely on its sector regulators.",
    "Medical device regulators in {} will assess diagnostic AI case by case.",
]
NEUTRAL = [
    "The {} ministry published its annual report on digital skills last spring.",
    "Researchers in {} trained a language model on public domain books.",
    "The conference in {} drew speakers from universities and startups.",
    "Machine learning can help farmers in {} predict the weather.",
]
PLACES = ["Arland", "Brevia", "Corvath", "Dunmere", "Elsport", "Farrow", "Galdor", "Hestia"]


def write_annotations(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for label, templates in (("centralized", CENTRAL), ("sector_specific", SECTOR), ("neutral", NEUTRAL)):
        for t, template in enumerate(templates):
            for p, place in enumerate(PLACES):
                rows.append({"id": f"{label[:3]}-{t}-{p}", "text": template.format(place), "label": label,
                             "genre": "test", "jurisdiction": place,
                             "hard_case": "contrast" if "Rather" in template else None})
    (folder / "batch.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict]:
    root = tmp_path_factory.mktemp("train")
    data = write_annotations(root / "data")
    result = train(data, root / "model", target_prior=(1 / 3, 1 / 3, 1 / 3))
    return data, result.out, result.card


def test_split_is_deterministic_and_near_twenty_percent() -> None:
    ids = [f"s-{i}" for i in range(2000)]
    share = sum(split_of(i) == "heldout" for i in ids) / len(ids)
    assert 0.17 < share < 0.23
    assert [split_of(i) for i in ids] == [split_of(i) for i in ids]


def test_training_never_sees_the_heldout_split(trained: tuple[Path, Path, dict]) -> None:
    data, out, card = trained
    train_set, heldout = split(load_annotations(data))
    assert heldout, "the fixture should hold some sentences out"
    model = GovernanceModel.load(out)
    assert sum(card["training_data"]["train"].values()) == len(train_set)
    assert sum(card["training_data"]["heldout"].values()) == len(heldout)
    assert model.version == card["version"]


def test_a_word_only_in_heldout_sentences_is_not_in_the_vocabulary(tmp_path: Path) -> None:
    data = write_annotations(tmp_path / "data")
    rows = [json.loads(line) for line in (data / "batch.jsonl").read_text().splitlines()]
    heldout_ids = [r["id"] for r in rows if split_of(r["id"]) == "heldout"]
    for row in rows:
        if row["id"] in heldout_ids[:2]:
            row["text"] += " Zyzzogeton zyzzogeton."
    (data / "batch.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    out = train(data, tmp_path / "model", target_prior=(0.2, 0.2, 0.6)).out
    assert not any("zyzzogeton" in name for name in GovernanceModel.load(out).vocabulary)


def test_trained_model_files_and_card(trained: tuple[Path, Path, dict]) -> None:
    _, out, card = trained
    assert {p.name for p in out.iterdir()} >= {"model.json", "model_card.json", "MODEL_CARD.md", "cues"}
    assert sorted(p.name for p in (out / "cues").glob("cues_*.jsonl"))
    assert set(card["libraries"]) >= {"spacy", "scikit-learn", "policylens"}
    assert len(card["training_data"]["sha256"]) == 64
    assert set(card["heldout_metrics"]["shipped_priors"]["per_class"]) == set(LABELS)
    assert "Held-out metrics" in (out / "MODEL_CARD.md").read_text()
    assert not list(out.rglob("*.pkl")) and not list(out.rglob("*.pickle"))


def test_trained_model_separates_clear_sentences(trained: tuple[Path, Path, dict]) -> None:
    _, out, _ = trained
    nlp = build_pipeline(out)
    docs = list(nlp.pipe([
        "A single national AI authority will license every AI system sold in the Zemlan market.",
        "Existing regulators in Zemla will apply their own rules to AI within their remits.",
        "Researchers in Zemla trained a language model on public domain books.",
    ]))
    labels = [max(d._.governance[0][2], key=d._.governance[0][2].get) for d in docs]
    assert labels == ["centralized", "sector_specific", "neutral"]


def test_training_refuses_the_evaluation_only_dev_set(tmp_path: Path) -> None:
    dev = tmp_path / "dev_sentences.jsonl"
    dev.write_text('{"id": "d1", "text": "A sentence.", "label": "neutral"}\n')
    with pytest.raises(DataError, match="evaluation-only"):
        train(dev, tmp_path / "model")


def test_training_needs_all_three_labels(tmp_path: Path) -> None:
    (tmp_path / "one.jsonl").write_text("\n".join(
        json.dumps({"id": f"n{i}", "text": f"Sentence number {i}.", "label": "neutral"}) for i in range(30)))
    with pytest.raises(DataError, match="all three labels"):
        train(tmp_path / "one.jsonl", tmp_path / "model")


@pytest.mark.parametrize(("line", "message"), [
    ("{broken", "line 2: not valid JSON"),
    ('{"id": "x2", "text": "Hi.", "label": "centralised"}', "line 2: label 'centralised'"),
    ('{"id": "x2", "label": "neutral"}', "line 2: missing field"),
    ('{"id": "x1", "text": "Again.", "label": "neutral"}', "duplicate id"),
])
def test_bad_annotation_lines_name_the_line(tmp_path: Path, line: str, message: str) -> None:
    (tmp_path / "a.jsonl").write_text('{"id": "x1", "text": "Fine.", "label": "neutral"}\n' + line + "\n")
    with pytest.raises(DataError, match=message):
        load_annotations(tmp_path)


def test_stats_count_labels_and_hard_cases(tmp_path: Path) -> None:
    numbers = stats(load_annotations(write_annotations(tmp_path)))
    assert numbers["total"] == 96
    assert numbers["by_label"] == {"centralized": 32, "sector_specific": 32, "neutral": 32}
    assert numbers["by_hard_case"] == {"contrast": 8}
    assert "| sector_specific | 32 |" in stats_markdown(numbers)


def test_em_recovers_a_shifted_prior() -> None:
    rng = np.random.default_rng(0)
    truth = rng.choice(3, size=4000, p=[0.1, 0.1, 0.8])
    # A classifier trained on balanced data: right class gets 0.7, others 0.15.
    probs = np.full((4000, 3), 0.15)
    probs[np.arange(4000), truth] = 0.7
    prior = em_priors(probs, np.full(3, 1 / 3))
    assert prior[2] > 0.75 and abs(prior.sum() - 1) < 1e-9


def test_default_model_loads_without_training() -> None:
    model = GovernanceModel.load(default_model_dir())
    assert model.labels == LABELS and model.version
    assert (default_model_dir() / "model_card.json").is_file()


@pytest.mark.parametrize(("change", "message"), [
    ({"format": "something-else"}, "not a policylens governance model"),
    ({"format_version": 99}, "format version 99"),
    ({"spacy_major": 2}, "spaCy 2.x"),
    ({"labels": ["a", "b", "c"]}, "labels"),
    ({"features": [["w:x", [1.0]]]}, "do not match|malformed"),
])
def test_mismatched_models_are_refused(trained: tuple[Path, Path, dict], tmp_path: Path, change: dict,
                                       message: str) -> None:
    _, out, _ = trained
    data = json.loads((out / "model.json").read_text())
    data.update(change)
    (tmp_path / "model.json").write_text(json.dumps(data))
    with pytest.raises(ModelError, match=message):
        GovernanceModel.load(tmp_path)


def test_missing_or_unreadable_model_is_a_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="no governance model"):
        GovernanceModel.load(tmp_path)
    (tmp_path / "model.json").write_text("[1, 2")
    with pytest.raises(ModelError, match="cannot read model"):
        GovernanceModel.load(tmp_path)
    with pytest.raises(ModelError, match="model folder not found"):
        build_pipeline(tmp_path / "nope")


def test_ensemble_is_saved_as_one_linear_model(trained: tuple[Path, Path, dict]) -> None:
    _, out, card = trained
    model = GovernanceModel.load(out)
    assert 0.0 <= card["model"]["nb_weight"] < 1.0 and card["model"]["nb_alpha"] > 0
    assert card["model"]["cv_macro_f1"] > 0.9  # the templates are easy
    # the JSON holds exactly the weights predict_proba uses: one matrix, one intercept
    assert model.coef.shape == (len(LABELS), len(model.vocabulary))


def test_em_priors_from_an_unlabelled_folder_of_txt_and_md(tmp_path: Path) -> None:
    data = write_annotations(tmp_path / "data")
    docs = tmp_path / "docs"
    docs.mkdir()
    filler = " ".join(f"The {p} statistics office counted {n} new bakeries in the old town this year."
                      for n, p in enumerate(PLACES * 3))
    (docs / "a.txt").write_text(filler, encoding="utf-8")
    (docs / "b.md").write_text("# Notes\n\n" + filler, encoding="utf-8")
    (docs / "ignored.csv").write_text("not,a,document\n", encoding="utf-8")
    card = train(data, tmp_path / "model", unlabeled=docs).card
    prior = card["model"]["target_prior"]
    assert card["model"]["target_prior_source"].startswith("EM on 48 unlabelled sentences")
    assert abs(sum(prior.values()) - 1) < 1e-3 and prior["neutral"] > 0.9


def test_pseudo_labels_take_the_most_confident_rows_per_class_in_prior_proportions() -> None:
    from policylens.nlp.train import pseudo_labels

    # rows 0-3 lean centralized (row 1 most), 4-5 sector_specific, 6-11 neutral
    logits = np.array([[2, 0, 0], [5, 0, 0], [1, 0, 0], [3, 0, 0], [0, 4, 0], [0, 1, 0]]
                      + [[0, 0, m] for m in (1, 2, 3, 4, 5, 6)], dtype=float)
    idx, labels = pseudo_labels(logits, np.zeros(3), np.array([0.2, 0.2, 0.6]), 10)
    assert dict(zip(idx.tolist(), labels.tolist(), strict=True)) == {
        1: 0, 3: 0, 4: 1, 5: 1, 11: 2, 10: 2, 9: 2, 8: 2, 7: 2, 6: 2}
    # a prior shift moves rows between classes before ranking: row 2 (margin 1) becomes neutral
    idx, labels = pseudo_labels(logits, np.array([0.0, 0.0, 1.5]), np.array([0.5, 0.0, 0.5]), 2)
    assert idx.tolist() == [1, 11] and labels.tolist() == [0, 2]


def test_self_training_on_an_unlabelled_folder(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from policylens.cli import app

    data = write_annotations(tmp_path / "data")
    docs = tmp_path / "docs"
    docs.mkdir()
    secret = "The Quorvel statistics office counted seven new bakeries in the harbour district."
    lines = [secret] + [
        f"A single national AI authority in {p} will license every AI system in the market. "
        f"Existing regulators in {p} will apply their own rules to AI within their remits. "
        f"The {p} statistics office counted {n} new bakeries in the old town this year."
        for n, p in enumerate(PLACES * 2)]
    (docs / "a.txt").write_text(" ".join(lines), encoding="utf-8")
    result = CliRunner().invoke(app, ["train", "--data", str(data), "--out", str(tmp_path / "model"),
                                      "--self-train", str(docs)])
    assert result.exit_code == 0, result.output
    card = json.loads((tmp_path / "model" / "model_card.json").read_text())
    st = card["model"]["self_training"]
    assert st["unlabeled_sentences"] == 49 and st["rounds"] == 2
    assert "0/0" in st["cv_grid"] and len(st["cv_grid"]) > 1
    # the choice is the most pseudo-label mass within the tolerance of CV without self-training
    assert st["cv_macro_f1"] >= st["cv_grid"]["0/0"] - 0.01 - 1e-9
    assert f"{st['share']:g}/{st['weight']:g}" in st["cv_grid"]
    assert card["model"]["target_prior_source"].startswith("EM on 49 unlabelled sentences")
    # only features are kept: no unlabelled sentence is written into the model folder
    for file in (tmp_path / "model").rglob("*"):
        if file.is_file():
            assert "quorvel statistics office" not in file.read_text(encoding="utf-8").lower()
    model = GovernanceModel.load(tmp_path / "model")
    assert abs(sum(model.train_prior) - 1) < 1e-6


def test_grouped_cross_validation_is_not_fooled_by_document_words() -> None:
    """Rows of one document share a word that names the document; labels are drawn per
    document at random, so only a split inside documents can "learn" them from that word."""
    from policylens.nlp.fit import fit_linear

    rng = np.random.default_rng(0)
    rows, y, groups = [], [], []
    for d in range(40):
        label = int(rng.integers(0, 3)) if d >= 3 else d  # every class present
        for _ in range(8):
            rows.append({f"w:doc{d}": 1.0, f"w:noise{int(rng.integers(0, 5))}": 1.0})
            y.append(label)
            groups.append(f"doc{d}")
    leaky = fit_linear(rows, y, 3, min_df=1)
    grouped = fit_linear(rows, y, 3, min_df=1, groups=groups)
    assert leaky.cv_macro_f1 > 0.9
    assert grouped.cv_macro_f1 < 0.6


def test_grouped_fit_needs_one_group_per_row() -> None:
    from policylens.nlp.fit import fit_linear

    rows = [{"w:a": 1.0}, {"w:b": 1.0}, {"w:c": 1.0}] * 4
    with pytest.raises(DataError, match="groups"):
        fit_linear(rows, [0, 1, 2] * 4, 3, min_df=1, groups=["x"])


def test_model_version_from_the_files_is_the_pipelines() -> None:
    # a refresh reads the version from the files (no pipeline to build when nothing changed):
    # it must be the very version a built pipeline stamps on what it tags
    from policylens.nlp import load_pipeline
    from policylens.nlp.model_files import MODEL_FILES, model_version
    from policylens.nlp.pipeline import model_version as pipeline_version
    from policylens.nlp.role import ROLE_FILE
    from policylens.nlp.scope import SCOPE_FILE

    assert MODEL_FILES == (MODEL_FILE, ROLE_FILE, SCOPE_FILE)
    assert model_version() == pipeline_version(load_pipeline())


@pytest.mark.parametrize("text, version", [
    ('{"format": "x", "version": "abc", "features": []}', "abc"),
    ('{"meta": {"version": "nested"}, "features": [[1.5, 2]], "version": "late"}', "late"),
    ('{"version": 7}', "7"),
    ('{"meta": {"version": "nested"}}', ""),
    (' {\n "version" : "spaced" ,"x":1}', "spaced"),
])
def test_model_version_reads_the_top_level_version_as_json_does(tmp_path: Path, text: str,
                                                                  version: str) -> None:
    from policylens.nlp.model_files import model_version

    (tmp_path / MODEL_FILE).write_text(text, encoding="utf-8")
    assert model_version(tmp_path) == version == str(json.loads(text).get("version", ""))


@pytest.mark.parametrize("text", ['["version", "abc"]', '{"version": "abc', "not json"])
def test_model_version_of_a_broken_model_file_is_a_model_error(tmp_path: Path, text: str) -> None:
    from policylens.nlp.model_files import model_version

    (tmp_path / MODEL_FILE).write_text(text, encoding="utf-8")
    with pytest.raises(ModelError):
        model_version(tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="no governance model"):
        model_version(tmp_path / "empty")
