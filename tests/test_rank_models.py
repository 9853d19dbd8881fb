"""The framework scorer and Wordscores: fitting, JSON round trip, version refusal, use in score()."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from policylens.errors import ModelError
from policylens.rank import score
from policylens.rank.classifier import FrameworkScorer, position_class
from policylens.rank.features import FEATURE_NAMES, document_features
from policylens.rank.scoring import SCORER_FILE, WORDSCORES_FILE
from policylens.rank.wordscores import Wordscores
from test_rank_support import mixed

MIXES = [(n_c, n_s, 20) for n_c in range(0, 25, 4) for n_s in range(0, 25, 4) if n_c + n_s > 0]


@pytest.fixture(scope="module")
def training() -> tuple[np.ndarray, np.ndarray]:
    X = np.array([document_features(mixed(*m).sentences) for m in MIXES])
    y = np.array([position_class((c - s) / (c + s)) for c, s, _ in MIXES])
    return X, y


@pytest.fixture(scope="module")
def fitted(training: tuple[np.ndarray, np.ndarray]) -> FrameworkScorer:
    return FrameworkScorer(C=1.0).fit(*training)


def test_scorer_probabilities_match_scikit_learn(fitted: FrameworkScorer,
                                                 training: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = training
    scaler = StandardScaler().fit(X)
    reference = LogisticRegression(C=1.0, max_iter=2000).fit(scaler.transform(X), y)
    assert list(reference.classes_) == list(fitted.classes_)
    np.testing.assert_allclose(fitted.predict_proba(X), reference.predict_proba(scaler.transform(X)),
                               atol=1e-9)


def test_scorer_orders_centralized_above_sector(fitted: FrameworkScorer) -> None:
    central = fitted.position(document_features(mixed(20, 1, 20).sentences)[None, :])[0]
    sector = fitted.position(document_features(mixed(1, 20, 20).sentences)[None, :])[0]
    assert central > 0.5 > -0.5 > sector


def test_scorer_json_round_trip_predicts_identically(fitted: FrameworkScorer, tmp_path: Path,
                                                     training: tuple[np.ndarray, np.ndarray]) -> None:
    path = tmp_path / "scorer.json"
    fitted.save(path, training_data_sha256="abc")
    data = json.loads(path.read_text())
    assert data["feature_names"] == list(FEATURE_NAMES)
    assert data["training_data_sha256"] == "abc"
    assert "scikit-learn" in data["versions"]
    assert b"pickle" not in path.read_bytes()
    loaded = FrameworkScorer.load(path)
    np.testing.assert_allclose(loaded.predict_proba(training[0]), fitted.predict_proba(training[0]))
    assert list(loaded.predict(training[0])) == list(fitted.predict(training[0]))


@pytest.mark.parametrize("change,message", [
    (lambda d: d["versions"].update({"scikit-learn": "0.1"}), "trained with scikit-learn 0.1"),
    (lambda d: d.update(format="something-else/9"), "not a framework scorer"),
    (lambda d: d.update(feature_names=["x", "y"]), "features differ"),
    (lambda d: d.update(coef=[[1.0]]), "malformed"),
])
def test_scorer_refuses_mismatched_or_malformed_files(fitted: FrameworkScorer, tmp_path: Path,
                                                      change: object, message: str) -> None:
    data = fitted.to_dict()
    change(data)  # type: ignore[operator]
    path = tmp_path / "scorer.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ModelError, match=message):
        FrameworkScorer.load(path)


def test_missing_scorer_says_how_to_train(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"policylens\.rank\.train"):
        FrameworkScorer.load(tmp_path / "nope.json")


def test_unfitted_scorer_refuses_to_predict() -> None:
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        FrameworkScorer().predict_proba(np.zeros((1, len(FEATURE_NAMES))))


def test_scorer_fit_validates_labels(training: tuple[np.ndarray, np.ndarray]) -> None:
    with pytest.raises(ValueError, match="unknown classes"):
        FrameworkScorer().fit(training[0], ["maybe"] * len(training[0]))


CENTRAL_TEXTS = ["The national authority registers and licenses every system in all sectors.",
                 "One horizontal law with uniform obligations binds every provider; the authority licenses."]
SECTOR_TEXTS = ["Existing regulators apply their own powers case by case in each sector.",
                "Sector regulators issue tailored guidance; no new regulator, rules depend on context."]


def test_wordscores_scale_between_references_and_round_trip(tmp_path: Path) -> None:
    words = Wordscores(min_docs=1).fit(CENTRAL_TEXTS + SECTOR_TEXTS, [1, 1, -1, -1])
    central = words.position("The authority licenses and registers every system under one horizontal law.")
    sector = words.position("Each sector regulator applies tailored guidance case by case.")
    assert central > 0.3 and sector < -0.3
    assert -1.0 <= central <= 1.0 and -1.0 <= sector <= 1.0
    words.save(tmp_path / "w.json")
    again = Wordscores.load(tmp_path / "w.json")
    assert again.position("Each sector regulator applies tailored guidance.") == pytest.approx(
        words.position("Each sector regulator applies tailored guidance."), abs=1e-5)
    (tmp_path / "bad.json").write_text(json.dumps({"format": "other"}))
    with pytest.raises(ModelError):
        Wordscores.load(tmp_path / "bad.json")


def test_score_uses_the_models_in_the_models_folder(tmp_path: Path, fitted: FrameworkScorer,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    fitted.save(tmp_path / SCORER_FILE)
    words = Wordscores(min_docs=1).fit(CENTRAL_TEXTS + SECTOR_TEXTS, [1, 1, -1, -1])
    words.save(tmp_path / WORDSCORES_FILE)
    monkeypatch.setenv("POLICYLENS_RANK_MODELS", str(tmp_path))
    doc = mixed(18, 2, 20)
    by_classifier = score(doc, method="classifier")
    assert by_classifier.method == "classifier"
    assert by_classifier.index > 0.3
    assert -1 <= by_classifier.ci_low <= by_classifier.index <= by_classifier.ci_high <= 1
    assert by_classifier.extra["aggregate_index"] == pytest.approx(score(doc).index, abs=1e-4)
    by_words = score(doc, method="wordscores")
    assert by_words.method == "wordscores"
    assert -1 <= by_words.ci_low <= by_words.index <= by_words.ci_high <= 1


def test_score_reports_a_missing_model_as_model_error(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLICYLENS_RANK_MODELS", str(tmp_path / "empty"))
    with pytest.raises(ModelError):
        score(mixed(3, 3, 3), method="classifier")
