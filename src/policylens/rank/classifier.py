"""The supervised framework scorer: a logistic regression over document features.

It follows scikit-learn's estimator contract (``__init__`` stores parameters,
``fit`` validates and learns attributes ending in ``_``, ``check_is_fitted``
guards prediction) and persists as JSON data, never pickle: the scaler's
means and scales, the coefficients, the classes, the feature names, the
library versions and a hash of the training data. A file made by another
format or scikit-learn version is refused, not guessed at.

The score of a document is ``P(centralized) - P(sector_specific)`` over three
classes (``sector_specific`` / ``mixed`` / ``centralized``), so it lives in
[-1, 1] like the aggregate index.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_array, check_is_fitted, check_X_y

from policylens.errors import ModelError
from policylens.rank.features import FEATURE_NAMES
from policylens.rank.model_file import read_model, write_model

FORMAT: Final[str] = "policylens-framework-scorer/1"
CLASSES: Final[tuple[str, ...]] = ("centralized", "mixed", "sector_specific")


def position_class(position: float, threshold: float = 1 / 3) -> str:
    """The gold class of a position on the axis: beyond +-threshold it leans one way."""
    if position > threshold:
        return "centralized"
    if position < -threshold:
        return "sector_specific"
    return "mixed"


def library_versions() -> dict[str, str]:
    """The versions a saved model records and checks (major.minor for scikit-learn)."""
    import sklearn

    from policylens import __version__

    return {"policylens": __version__, "scikit-learn": _major_minor(sklearn.__version__),
            "numpy": np.__version__}


def _major_minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


class FrameworkScorer(ClassifierMixin, BaseEstimator):
    """Standardised features -> multinomial logistic regression over the three classes."""

    def __init__(self, C: float = 1.0, max_iter: int = 2000) -> None:
        self.C = C
        self.max_iter = max_iter

    def fit(self, X: Any, y: Sequence[str] | np.ndarray) -> FrameworkScorer:
        """Learn from document features ``X`` and class labels ``y`` (from ``CLASSES``)."""
        X, y = check_X_y(X, y, dtype=float)
        unknown = sorted(set(y) - set(CLASSES))
        if unknown:
            raise ValueError(f"unknown classes {unknown}; expected {list(CLASSES)}")
        if len(set(y)) < 2:
            raise ValueError("need at least two classes to fit")
        if self.C <= 0:
            raise ValueError(f"C must be positive, not {self.C}")
        scaler = StandardScaler().fit(X)
        model = LogisticRegression(C=self.C, max_iter=self.max_iter).fit(scaler.transform(X), y)
        self.n_features_in_ = X.shape[1]
        self.classes_ = np.asarray(model.classes_)
        self.mean_ = scaler.mean_.copy()
        self.scale_ = scaler.scale_.copy()
        coef, intercept = model.coef_, model.intercept_
        if coef.shape[0] == 1:  # two classes: sklearn stores one row for the second class
            coef = np.vstack([-coef / 2, coef / 2])
            intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
        self.coef_ = coef
        self.intercept_ = intercept
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities (columns in ``classes_`` order), a softmax over linear scores."""
        check_is_fitted(self, ("coef_", "intercept_", "mean_", "scale_"))
        X = check_array(X, dtype=float)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"expected {self.n_features_in_} features, got {X.shape[1]}")
        z = ((X - self.mean_) / self.scale_) @ self.coef_.T + self.intercept_
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return np.asarray(e / e.sum(axis=1, keepdims=True))

    def predict(self, X: Any) -> np.ndarray:
        return np.asarray(self.classes_[np.argmax(self.predict_proba(X), axis=1)])

    def position(self, X: Any) -> np.ndarray:
        """Signed position in [-1, 1]: P(centralized) - P(sector_specific)."""
        proba = self.predict_proba(X)
        classes = list(self.classes_)
        pc = proba[:, classes.index("centralized")] if "centralized" in classes else 0.0
        ps = proba[:, classes.index("sector_specific")] if "sector_specific" in classes else 0.0
        return np.asarray(pc - ps, dtype=float)

    # --- persistence as data ------------------------------------------------------

    def to_dict(self, *, training_data_sha256: str = "", extra: Mapping[str, Any] | None = None
                ) -> dict[str, Any]:
        check_is_fitted(self, ("coef_", "intercept_", "mean_", "scale_"))
        return {
            "format": FORMAT,
            "params": {"C": self.C, "max_iter": self.max_iter},
            "feature_names": list(FEATURE_NAMES),
            "classes": [str(c) for c in self.classes_],
            "mean": self.mean_.tolist(),
            "scale": self.scale_.tolist(),
            "coef": self.coef_.tolist(),
            "intercept": self.intercept_.tolist(),
            "versions": library_versions(),
            "training_data_sha256": training_data_sha256,
            **(dict(extra) if extra else {}),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "<dict>") -> FrameworkScorer:
        """Rebuild a fitted scorer; refuse other formats, feature sets or library versions."""
        if data.get("format") != FORMAT:
            raise ModelError(f"not a framework scorer of format {FORMAT} (found {data.get('format')!r})",
                             path=source)
        versions = data.get("versions", {})
        mine = library_versions()
        if versions.get("scikit-learn") != mine["scikit-learn"]:
            raise ModelError(
                f"framework scorer was trained with scikit-learn {versions.get('scikit-learn')}, "
                f"this is {mine['scikit-learn']}: retrain with `python -m policylens.rank.train`",
                path=source)
        if list(data.get("feature_names", [])) != list(FEATURE_NAMES):
            raise ModelError("framework scorer's features differ from this policylens version's: "
                             "retrain with `python -m policylens.rank.train`", path=source)
        try:
            scorer = cls(**data["params"])
            scorer.classes_ = np.asarray(data["classes"])
            scorer.mean_ = np.asarray(data["mean"], dtype=float)
            scorer.scale_ = np.asarray(data["scale"], dtype=float)
            scorer.coef_ = np.asarray(data["coef"], dtype=float)
            scorer.intercept_ = np.asarray(data["intercept"], dtype=float)
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"malformed framework scorer: {exc}", path=source) from None
        scorer.n_features_in_ = scorer.mean_.shape[0]
        k = len(scorer.classes_)
        if scorer.coef_.shape != (k, scorer.n_features_in_) or scorer.intercept_.shape != (k,):
            raise ModelError("malformed framework scorer: coefficient shapes do not match", path=source)
        return scorer

    def save(self, path: Path, **kwargs: Any) -> None:
        write_model(path, self.to_dict(**kwargs))

    @classmethod
    def load(cls, path: Path) -> FrameworkScorer:
        data = read_model(path, "framework scorer")
        return cls.from_dict(data, source=str(path))
