"""The governance model on disk: JSON weights, readable vocabulary, no pickle.

A model folder holds:

* ``model.json``: format name and version, labels, the feature vocabulary
  (name -> column), the linear weights and intercepts, the softmax temperature,
  and the class priors it was trained under and is meant to predict under;
* ``cues/``: the cue patterns the features were computed with;
* ``model_card.json`` and ``MODEL_CARD.md``: data hash, date, versions, metrics.

Prediction is a sparse dot product and a softmax, so loading needs only numpy.
A model whose format, format version or spaCy major version differs from this
code's is refused with a ``ModelError`` rather than silently mis-read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
from scipy import sparse
from spacy import about as spacy_about

from policylens.atomic import write_text_atomic
from policylens.errors import ModelError
from policylens.labels import LABELS
from policylens.nlp.model_files import (  # re-exported: callers import them from here
    default_model_dir as default_model_dir,
)
from policylens.nlp.model_files import (
    resolve_model_dir as resolve_model_dir,
)

FORMAT = "policylens-governance"
FORMAT_VERSION = 1
MODEL_FILE = "model.json"
CARD_FILE = "model_card.json"
CUES_DIR = "cues"


def _spacy_major() -> int:
    return int(spacy_about.__version__.split(".")[0])


@dataclass(frozen=True)
class LinearModel:
    """A multinomial linear classifier over named features, stored as readable JSON.

    Subclasses name their file, format and labels: ``GovernanceModel`` (the approach of a
    sentence's content), ``RoleModel`` (a sentence's role), ``ScopeModel`` (a document's scope).
    """

    FORMAT: ClassVar[str] = FORMAT
    FORMAT_VERSION: ClassVar[int] = FORMAT_VERSION
    FILE: ClassVar[str] = MODEL_FILE
    LABELS: ClassVar[tuple[str, ...]] = LABELS
    KIND: ClassVar[str] = "governance"

    vocabulary: dict[str, int]
    coef: np.ndarray  # (n_labels, n_features)
    intercept: np.ndarray  # (n_labels,)
    temperature: float = 1.0
    train_prior: tuple[float, ...] = (1 / 3, 1 / 3, 1 / 3)
    target_prior: tuple[float, ...] = (1 / 3, 1 / 3, 1 / 3)
    labels: tuple[str, ...] = LABELS
    version: str = ""  # short hash shown in TaggedDocument.model_version
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n_labels, n_features = self.coef.shape
        if n_labels != len(self.labels) or n_features != len(self.vocabulary):
            raise ModelError(f"{self.KIND} model weights do not match its labels and vocabulary")

    @property
    def prior_shift(self) -> np.ndarray:
        """Log-ratio added to the logits to move from training priors to target priors."""
        return np.asarray(np.log(np.asarray(self.target_prior)) - np.log(np.asarray(self.train_prior)))

    def predict_proba(self, x: sparse.csr_matrix, *, adjust_priors: bool = True) -> np.ndarray:
        """Calibrated probabilities, one row per sentence, columns in ``labels`` order."""
        logits = np.asarray(x @ self.coef.T) + self.intercept
        logits = logits / self.temperature
        if adjust_priors:
            logits = logits + self.prior_shift
        logits -= logits.max(axis=1, keepdims=True)
        probs = np.exp(logits)
        probs /= probs.sum(axis=1, keepdims=True)
        return np.asarray(probs)

    # --- persistence --------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.FORMAT,
            "format_version": self.FORMAT_VERSION,
            "spacy_major": _spacy_major(),
            "version": self.version,
            "labels": list(self.labels),
            "temperature": self.temperature,
            "train_prior": [round(p, 6) for p in self.train_prior],
            "target_prior": [round(p, 6) for p in self.target_prior],
            "meta": self.meta,
            "intercept": [round(float(v), 6) for v in self.intercept],
            # One row per feature, ordered by column: easy to read and to diff.
            "features": [
                [name, [round(float(v), 5) for v in self.coef[:, col]]]
                for name, col in sorted(self.vocabulary.items(), key=lambda kv: kv[1])
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, where: str = MODEL_FILE) -> Self:
        if data.get("format") != cls.FORMAT:
            raise ModelError(f"{where}: not a policylens {cls.KIND} model (format {data.get('format')!r})")
        if data.get("format_version") != cls.FORMAT_VERSION:
            raise ModelError(
                f"{where}: model format version {data.get('format_version')} does not match this "
                f"policylens ({cls.FORMAT_VERSION}); retrain it with `policylens train`")
        if data.get("spacy_major") != _spacy_major():
            raise ModelError(
                f"{where}: model was built with spaCy {data.get('spacy_major')}.x, this is spaCy "
                f"{spacy_about.__version__}; retrain it with `policylens train`")
        try:
            labels = tuple(data["labels"])
            if labels != cls.LABELS:
                raise ModelError(f"{where}: model labels {labels} differ from {cls.LABELS}")
            features = data["features"]
            vocabulary = {name: i for i, (name, _) in enumerate(features)}
            coef = np.asarray([weights for _, weights in features], dtype=np.float64).T.reshape(
                len(labels), len(features))
            return cls(
                vocabulary=vocabulary,
                coef=np.ascontiguousarray(coef),
                intercept=np.asarray(data["intercept"], dtype=np.float64),
                temperature=float(data["temperature"]),
                train_prior=tuple(float(p) for p in data["train_prior"]),
                target_prior=tuple(float(p) for p in data["target_prior"]),
                labels=labels,
                version=str(data.get("version", "")),
                meta=dict(data.get("meta", {})),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"{where}: malformed model ({exc})") from None

    def save(self, directory: Path) -> Path:
        """Write the model file into ``directory`` atomically (a crash leaves the old model whole)."""
        path = directory / self.FILE
        write_text_atomic(path, json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":")) + "\n")
        return path

    @classmethod
    def load(cls, directory: str | Path) -> Self:
        directory = Path(directory)
        path = directory / cls.FILE
        if not path.is_file():
            raise ModelError(f"no {cls.KIND} model in {directory} (expected {cls.FILE}); "
                             "run `policylens train` or pass --model DIR")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ModelError(f"{path}: cannot read model ({exc})") from None
        if not isinstance(data, dict):
            raise ModelError(f"{path}: malformed model (not a JSON object)")
        return cls.from_dict(data, where=str(path))


@dataclass(frozen=True)
class GovernanceModel(LinearModel):
    """The content model: the approach a sentence's own words favour (codebook rules A1-A7)."""


