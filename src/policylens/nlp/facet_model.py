"""The document facet models on disk: readable JSON, one file per family, never pickle.

A facet model folder (default: the bundled ``models/facets/``) holds

* ``vocabulary.json``: the words the models read and their idf weights;
* ``<family>.json`` (``sector``, ``instrument``, ``agora``): one logistic
  regression per label over the document's TF-IDF and the label's mention
  features (``facet_features.MENTION_FEATURES``), with its Platt calibration
  and decision threshold (both chosen by cross-validation on training data).
  A family may also carry a **combiner** (``sector`` does): one logistic
  regression shared by all its labels that reads each label's mention features
  and its word regression's logit, with one intercept per label, so that a
  rare label borrows how mention counts translate into a decision from the
  frequent ones;
* ``model_card.json`` and ``MODEL_CARD.md``: what the models were trained on,
  how AGORA's tags were mapped, cross-validated scores.

Prediction is a few dot products, so loading needs only numpy. A file of
another format or format version is refused with a ``ModelError``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Final

import numpy as np

from policylens.atomic import write_text_atomic
from policylens.errors import ModelError
from policylens.nlp.facet_features import MENTION_FEATURES, DocumentFeatures, Vocabulary

FORMAT: Final = "policylens-document-facets"
FORMAT_VERSION: Final = 2  # 2: families may carry a combiner
VOCABULARY_FILE: Final = "vocabulary.json"
CARD_FILE: Final = "model_card.json"
CARD_MD: Final = "MODEL_CARD.md"
TRAIN_HINT: Final = "train them with `policylens train --part facets --documents ../shared/corpus`"


def _round(values: np.ndarray, digits: int = 5) -> list[float]:
    return [round(float(v), digits) for v in values]


@dataclass(frozen=True)
class LabelModel:
    """One facet value's classifier: ``P = sigmoid(a * z + b)`` with ``z`` the regression's logit."""

    name: str
    matches: tuple[str, ...]  # span-matcher facets ("sector:healthcare") that are evidence for it
    intercept: float
    mention_mean: np.ndarray
    mention_scale: np.ndarray
    mention_coef: np.ndarray
    word_coef: np.ndarray  # one weight per vocabulary word
    calibration: tuple[float, float]  # (a, b)
    threshold: float  # the label is assigned when P >= threshold
    support: int = 0  # training documents with the label

    def mention_logit(self, mention: np.ndarray) -> float:
        return float(np.dot((mention - self.mention_mean) / self.mention_scale, self.mention_coef))

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "matches": list(self.matches),
            "support": self.support,
            "threshold": round(self.threshold, 4),
            "calibration": {"a": round(self.calibration[0], 6), "b": round(self.calibration[1], 6)},
            "intercept": round(self.intercept, 6),
            "mentions": {"mean": _round(self.mention_mean, 6), "scale": _round(self.mention_scale, 6),
                         "coef": _round(self.mention_coef, 6)},
            "words": _round(self.word_coef),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], n_words: int) -> LabelModel:
        mentions = data["mentions"]
        arrays = [np.asarray(mentions[k], dtype=np.float64) for k in ("mean", "scale", "coef")]
        if any(len(a) != len(MENTION_FEATURES) for a in arrays):
            raise ValueError(f"label {data['name']!r}: {len(MENTION_FEATURES)} mention features expected")
        word_coef = np.asarray(data["words"], dtype=np.float64)
        if len(word_coef) != n_words:
            raise ValueError(f"label {data['name']!r}: {len(word_coef)} word weights for {n_words} words")
        return cls(name=str(data["name"]), matches=tuple(data.get("matches", ())),
                   intercept=float(data["intercept"]), mention_mean=arrays[0], mention_scale=arrays[1],
                   mention_coef=arrays[2], word_coef=word_coef,
                   calibration=(float(data["calibration"]["a"]), float(data["calibration"]["b"])),
                   threshold=float(data["threshold"]), support=int(data.get("support", 0)))


#: What a combiner reads per label: its mention features, then its word regression's logit.
COMBINER_FEATURES: Final[tuple[str, ...]] = (*MENTION_FEATURES, "word logit")


@dataclass(frozen=True)
class Combiner:
    """A logistic regression shared by a family's labels, with ``f`` a label's ``COMBINER_FEATURES``:
    ``z = ((f - mean) / scale) . coef + intercepts[label]``."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercepts: dict[str, float]

    def logits(self, features: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
        """``features``: [documents x] labels x ``COMBINER_FEATURES``, labels in the order of ``names``."""
        out: np.ndarray = ((features - self.mean) / self.scale) @ self.coef
        out = out + np.array([self.intercepts[n] for n in names])
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"features": list(COMBINER_FEATURES), "mean": _round(self.mean, 6),
                "scale": _round(self.scale, 6), "coef": _round(self.coef, 6),
                "intercepts": {k: round(float(v), 6) for k, v in self.intercepts.items()}}

    @classmethod
    def from_dict(cls, data: dict[str, Any], names: tuple[str, ...]) -> Combiner:
        if list(data.get("features", ())) != list(COMBINER_FEATURES):
            raise ValueError(f"the combiner reads {data.get('features')}, not {list(COMBINER_FEATURES)}")
        arrays = [np.asarray(data[k], dtype=np.float64) for k in ("mean", "scale", "coef")]
        if any(len(a) != len(COMBINER_FEATURES) for a in arrays):
            raise ValueError(f"the combiner needs {len(COMBINER_FEATURES)} values per array")
        intercepts = {str(k): float(v) for k, v in data["intercepts"].items()}
        if set(intercepts) != set(names):
            raise ValueError("the combiner's intercepts do not name the family's labels")
        return cls(arrays[0], arrays[1], arrays[2], intercepts)


@dataclass(frozen=True)
class FamilyModel:
    """The classifiers of one facet family (sector, instrument or agora) over one vocabulary."""

    family: str
    labels: tuple[LabelModel, ...]
    vocabulary: Vocabulary
    meta: dict[str, Any] = field(default_factory=dict)
    combiner: Combiner | None = None
    _words: np.ndarray = field(init=False, repr=False, compare=False)  # (n_labels, n_words)
    _version: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        stacked = np.vstack([m.word_coef for m in self.labels]) if self.labels else np.zeros((0, 0))
        object.__setattr__(self, "_words", stacked)
        payload = json.dumps(self._content(), sort_keys=True)
        object.__setattr__(self, "_version", hashlib.sha256(payload.encode()).hexdigest()[:12])

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.labels)

    @property
    def version(self) -> str:
        """A short hash of the model's content (shown with every prediction)."""
        return self._version

    def logits(self, features: DocumentFeatures) -> np.ndarray:
        """Each label's logit for one document: its own regression's or, with a combiner, the
        combiner's over the label's mention features and its regression's logit."""
        cols, values = features.vector
        words: np.ndarray = self._words[:, cols] @ values if len(cols) else np.zeros(len(self.labels))
        counts = features.mention_counts()
        mention_rows = np.array([features.mention_features(m.matches, counts) for m in self.labels])
        mentions = np.array([m.mention_logit(row) for m, row in zip(self.labels, mention_rows, strict=True)])
        out: np.ndarray = words + mentions + np.array([m.intercept for m in self.labels])
        if self.combiner is None:
            return out
        return self.combiner.logits(np.column_stack([mention_rows, out]), self.names)

    def probabilities(self, features: DocumentFeatures) -> dict[str, float]:
        """Each label's calibrated probability for one document."""
        z = self.logits(features)
        a = np.array([m.calibration[0] for m in self.labels])
        b = np.array([m.calibration[1] for m in self.labels])
        p = 1.0 / (1.0 + np.exp(-(a * z + b)))
        return {m.name: float(v) for m, v in zip(self.labels, p, strict=True)}

    def sentence_scores(self, features: DocumentFeatures, labels: list[int]) -> np.ndarray:
        """Sentences x ``labels``: how strongly each sentence's words push each label (the sum of
        its words' weights x idf)."""
        weights = (self._words[labels] * self.vocabulary.idf).T
        return np.asarray(features.sentence_matrix() @ weights)

    # --- persistence --------------------------------------------------------------

    def _content(self) -> dict[str, Any]:
        return {"family": self.family, "vocabulary": self.vocabulary.version, "meta": self.meta,
                "mention_features": list(MENTION_FEATURES), "labels": [m.to_dict() for m in self.labels],
                "combiner": self.combiner.to_dict() if self.combiner is not None else None}

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "format_version": FORMAT_VERSION, "version": self.version,
                **self._content()}

    @classmethod
    def from_dict(cls, data: dict[str, Any], vocabulary: Vocabulary, *, where: str) -> FamilyModel:
        _check_format(data, where)
        if data.get("vocabulary") != vocabulary.version:
            raise ModelError(f"{where}: made for vocabulary {data.get('vocabulary')}, but "
                             f"{VOCABULARY_FILE} is {vocabulary.version}; {TRAIN_HINT}")
        if list(data.get("mention_features", ())) != list(MENTION_FEATURES):
            raise ModelError(f"{where}: its mention features differ from this policylens'; {TRAIN_HINT}")
        try:
            labels = tuple(LabelModel.from_dict(item, len(vocabulary)) for item in data["labels"])
            raw = data.get("combiner")
            combiner = Combiner.from_dict(raw, tuple(m.name for m in labels)) if raw is not None else None
            return cls(family=str(data["family"]), labels=labels, vocabulary=vocabulary,
                       meta=dict(data.get("meta", {})), combiner=combiner)
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"{where}: malformed facet model ({exc})") from None

    def save(self, directory: Path) -> Path:
        """Write ``<family>.json`` into ``directory`` atomically."""
        path = directory / f"{self.family}.json"
        write_text_atomic(path, json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":")) + "\n")
        return path


def _check_format(data: Any, where: str) -> None:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        found = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise ModelError(f"{where}: not a policylens document facet model (format {found!r})")
    if data.get("format_version") != FORMAT_VERSION:
        raise ModelError(f"{where}: facet model format version {data.get('format_version')} does not match "
                         f"this policylens ({FORMAT_VERSION}); {TRAIN_HINT}")


def save_vocabulary(vocabulary: Vocabulary, directory: Path) -> Path:
    path = directory / VOCABULARY_FILE
    data = {"format": FORMAT, "format_version": FORMAT_VERSION, "version": vocabulary.version,
            **vocabulary.to_dict()}
    write_text_atomic(path, json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n")
    return path


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"facet model file not found; {TRAIN_HINT}", path=str(path)) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"cannot read the facet model file ({exc})", path=str(path)) from None


def load_vocabulary(directory: Path) -> Vocabulary:
    path = directory / VOCABULARY_FILE
    data = _read_json(path)
    _check_format(data, str(path))
    return Vocabulary.from_dict(data)


@cache
def default_facets_dir() -> Path:
    """The bundled facet models: inside an installed wheel, else the repository's ``models/facets``."""
    packaged = resources.files("policylens") / "_models" / "facets"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[3] / "models" / "facets"


@lru_cache(maxsize=8)
def _load(directory: str, family: str) -> FamilyModel:
    folder = Path(directory)
    vocabulary = load_vocabulary(folder)
    path = folder / f"{family}.json"
    return FamilyModel.from_dict(_read_json(path), vocabulary, where=str(path))


def load_family(family: str, directory: str | Path | None = None) -> FamilyModel:
    """The facet model of ``family`` from ``directory`` (default: the bundled models), cached per process."""
    folder = Path(directory) if directory is not None else default_facets_dir()
    if not folder.is_dir():
        raise ModelError(f"facet model folder not found: {folder}")
    return _load(str(folder.resolve()), family)
