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

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Self, TypeVar

import numpy as np
from scipy import sparse
from spacy import about as spacy_about

from policylens import cache
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
        cls._check_header(data, where)
        try:
            features = data["features"]
            vocabulary = {name: i for i, (name, _) in enumerate(features)}
            coef = np.asarray([weights for _, weights in features], dtype=np.float64).T.reshape(
                len(cls.LABELS), len(features))
            return cls._from_parts(data, vocabulary, np.ascontiguousarray(coef),
                                   np.asarray(data["intercept"], dtype=np.float64))
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"{where}: malformed model ({exc})") from None

    @classmethod
    def _check_header(cls, data: dict[str, Any], where: str) -> None:
        """Refuse a file of another format, format version, spaCy major version or label set."""
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
        except (KeyError, TypeError) as exc:
            raise ModelError(f"{where}: malformed model ({exc})") from None
        if labels != cls.LABELS:
            raise ModelError(f"{where}: model labels {labels} differ from {cls.LABELS}")

    @classmethod
    def _from_parts(cls, header: dict[str, Any], vocabulary: dict[str, int], coef: np.ndarray,
                    intercept: np.ndarray) -> Self:
        """The model from a checked header (every field but the weights) and its arrays."""
        return cls(
            vocabulary=vocabulary,
            coef=coef,
            intercept=intercept,
            temperature=float(header["temperature"]),
            train_prior=tuple(float(p) for p in header["train_prior"]),
            target_prior=tuple(float(p) for p in header["target_prior"]),
            labels=tuple(header["labels"]),
            version=str(header.get("version", "")),
            meta=dict(header.get("meta", {})),
        )

    def save(self, directory: Path) -> Path:
        """Write the model file into ``directory`` atomically (a crash leaves the old model whole)."""
        path = directory / self.FILE
        write_text_atomic(path, json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":")) + "\n")
        return path

    @classmethod
    def load(cls, directory: str | Path) -> Self:
        """The model in ``directory``: parsed from its JSON file once, then read from the cache.

        Parsing the JSON weights is most of a model's load time, so the parsed arrays are
        cached (``policylens.cache``, keyed by the file's bytes) and later loads read them
        back; the header checks run either way, so a cached model is refused exactly when
        its file would be.
        """
        directory = Path(directory)
        path = directory / cls.FILE
        if not path.is_file():
            raise ModelError(f"no {cls.KIND} model in {directory} (expected {cls.FILE}); "
                             "run `policylens train` or pass --model DIR")
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise ModelError(f"{path}: cannot read model ({exc})") from None
        key = cache.content_key(WEIGHTS_CACHE_FORMAT, cls.FORMAT, hashlib.sha256(raw).hexdigest())
        cached = _from_cache(cls, cache.read_arrays(WEIGHTS_CACHE_KIND, key), str(path))
        if cached is not None:
            return cached
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ModelError(f"{path}: cannot read model ({exc})") from None
        if not isinstance(data, dict):
            raise ModelError(f"{path}: malformed model (not a JSON object)")
        model = cls.from_dict(data, where=str(path))
        _to_cache(model, data, key)
        return model


#: Bump when the cached form of model weights changes (old entries are then unused).
WEIGHTS_CACHE_FORMAT = 1
WEIGHTS_CACHE_KIND = "weights"
_NAME_SEP = "\x00"  # joins feature names in the cached form (no feature name holds it)

M = TypeVar("M", bound=LinearModel)


def _to_cache(model: LinearModel, data: dict[str, Any], key: str) -> None:
    """Cache a freshly parsed model: its weights as arrays, its names as one string, the rest as JSON."""
    names = list(model.vocabulary)  # in column order: the vocabulary was built from the file's rows
    if any(_NAME_SEP in name for name in names):
        return  # cannot be joined safely: this model is parsed from JSON each time
    header = {k: v for k, v in data.items() if k not in ("features", "intercept")}
    cache.write_arrays(WEIGHTS_CACHE_KIND, key, {
        "coef": model.coef, "intercept": model.intercept,
        "names": np.frombuffer(_NAME_SEP.join(names).encode("utf-8"), dtype=np.uint8),
        "header": np.frombuffer(json.dumps(header, ensure_ascii=False).encode("utf-8"), dtype=np.uint8),
    })


def _from_cache(cls: type[M], arrays: dict[str, np.ndarray] | None, where: str) -> M | None:
    """The model from a cache entry, or ``None`` when there is none or it is not whole."""
    if arrays is None or set(arrays) != {"coef", "intercept", "names", "header"}:
        return None
    coef, intercept, names, header = (arrays[k] for k in ("coef", "intercept", "names", "header"))
    try:
        data = json.loads(header.tobytes().decode("utf-8"))
        words = names.tobytes().decode("utf-8").split(_NAME_SEP) if names.size else []
    except (UnicodeDecodeError, ValueError):
        return None
    if (not isinstance(data, dict) or coef.dtype != np.float64 or intercept.dtype != np.float64
            or coef.shape != (len(cls.LABELS), len(words)) or intercept.shape != (len(cls.LABELS),)):
        return None
    cls._check_header(data, where)  # the same refusals as the file itself would meet
    vocabulary = dict(zip(words, range(len(words)), strict=True))
    if len(vocabulary) != len(words):
        return None
    try:
        return cls._from_parts(data, vocabulary, np.ascontiguousarray(coef), intercept)
    except (KeyError, TypeError, ValueError, ModelError):
        return None


@dataclass(frozen=True)
class GovernanceModel(LinearModel):
    """The content model: the approach a sentence's own words favour (codebook rules A1-A7)."""
