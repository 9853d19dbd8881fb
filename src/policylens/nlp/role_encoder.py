"""``policylens_role_encoder``: the opt-in encoder role mode (``--role-model encoder``).

Runs after ``policylens_role``. Where the linear role model is unsure (its most
probable role below ``gate``), a sentence's role probabilities become a mix of
the linear model's and the fine-tuned encoder's (``encoder.py``):
``weight * encoder + (1 - weight) * linear``; elsewhere the linear ones stay.
``weight`` and ``gate`` are stored with the encoder (``encoder.json``), chosen on
held-out AGORA documents. The encoder reads each sentence with its section
heading and previous sentence, as the linear model does, and runs only on the
unsure sentences (most of its cost). The linear probabilities are kept in
``doc.user_data[LINEAR]``: the scope model was trained on them and goes on
reading them, so this mode changes sentence roles (and the labels composed from
them) and nothing else.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc

from policylens.errors import ModelError
from policylens.labels import ROLES
from policylens.nlp.batching import BatchedComponent
from policylens.nlp.encoder import ENCODER_DIR, RoleEncoder
from policylens.nlp.model import default_model_dir
from policylens.nlp.role import CONTEXT, TEXT

FACTORY = "policylens_role_encoder"
CONFIG_FILE = "encoder.json"
FORMAT = "policylens-role-encoder"
FORMAT_VERSION = 1
#: ``doc.user_data`` key of the linear role model's probabilities, ``(start, end, probs)`` per sentence.
LINEAR = "policylens_roles_linear"
#: The role modes ``build_pipeline`` knows.
ROLE_MODES = ("linear", "encoder")


def default_encoder_dir() -> Path:
    """The bundled fine-tuned encoder, beside the bundled model folder."""
    return default_model_dir().parent / ENCODER_DIR


@dataclass(frozen=True)
class EncoderSettings:
    """``encoder.json``: where the encoder runs (``gate``) and how it is mixed in (``weight``)."""

    weight: float
    gate: float
    meta: Mapping[str, Any]

    @classmethod
    def load(cls, directory: Path) -> EncoderSettings:
        path = directory / CONFIG_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ModelError(f"{path}: cannot read the role encoder's settings ({exc})") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ModelError(f"{path}: not a policylens role encoder")
        if data.get("format_version") != FORMAT_VERSION:
            raise ModelError(f"{path}: format version {data.get('format_version')} is not {FORMAT_VERSION}")
        values = {}
        for key in ("weight", "gate"):
            value = data.get(key)
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
                raise ModelError(f"{path}: {key} must be a number in [0, 1]")
            values[key] = float(value)
        return cls(weight=values["weight"], gate=values["gate"], meta=data)

    def unsure(self, linear: Mapping[str, float]) -> bool:
        """Whether the encoder reads this sentence: the linear model's best role is below the gate
        (a gate of 1.0 sends every sentence to the encoder)."""
        return self.gate >= 1.0 or max(linear.values()) < self.gate

    def mix(self, encoder: Mapping[str, float], linear: Mapping[str, float]) -> dict[str, float]:
        w = self.weight
        return {r: w * float(encoder[r]) + (1.0 - w) * float(linear[r]) for r in ROLES}


def contexts(doc: Doc, spans: list[tuple[int, int]]) -> list[tuple[str, str, str]]:
    """``(section, previous sentence, sentence)`` of each sentence span of ``doc``."""
    context: Mapping[str, Any] = doc.user_data.get(CONTEXT) or {}
    section = str(context.get("section") or "")
    prev = str(context.get("prev") or "")
    whole = doc.user_data.get(TEXT) or doc.text  # Doc.text joins every token: never per sentence
    out: list[tuple[str, str, str]] = []
    for start, end in spans:
        span = doc[start:end]
        text = whole[span.start_char:span.end_char].strip()
        out.append((section, prev, text))
        prev = text
    return out


def refine(encoder: RoleEncoder, settings: EncoderSettings, linear: Sequence[Mapping[str, float]],
           cases: Sequence[tuple[str, str, str]]) -> list[dict[str, float]]:
    """The mode's role probabilities: the encoder's mixed into ``linear`` where the linear model
    is unsure (``settings.unsure``) and the sentence has text; ``cases`` are the sentences'
    ``(section, previous sentence, sentence)``. Only the unsure sentences are encoded."""
    out = [dict(probs) for probs in linear]
    unsure = [k for k, (probs, case) in enumerate(zip(linear, cases, strict=True))
              if settings.unsure(probs) and case[2]]
    if unsure:
        for k, row in zip(unsure, encoder.predict([cases[k] for k in unsure]).tolist(), strict=True):
            out[k] = settings.mix(dict(zip(ROLES, row, strict=True)), linear[k])
    return out


class RoleEncoderComponent(BatchedComponent):
    """Mixes the encoder's role probabilities into ``doc._.roles`` where the linear model is unsure."""

    def __init__(self, encoder: RoleEncoder, settings: EncoderSettings) -> None:
        self.encoder = encoder
        self.settings = settings
        self.model = self  # ``pipeline.model_version`` reads ``.model.version``

    @property
    def version(self) -> str:
        return f"enc-{self.encoder.version}-w{self.settings.weight:g}-g{self.settings.gate:g}"

    def _predict(self, docs: list[Doc]) -> None:
        linear: list[Mapping[str, float]] = []
        cases: list[tuple[str, str, str]] = []
        for doc in docs:  # one encoder call for the whole batch of docs
            roles = list(doc._.roles or [])
            doc.user_data[LINEAR] = roles
            linear += [probs for _, _, probs in roles]
            cases += contexts(doc, [(start, end) for start, end, _ in roles])
        mixed = iter(refine(self.encoder, self.settings, linear, cases))
        for doc in docs:
            doc._.roles = [(start, end, next(mixed)) for start, end, _ in doc.user_data[LINEAR]]

    def to_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> None:
        raise NotImplementedError("the role encoder is read from its folder, not serialised by spaCy")

    def from_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> RoleEncoderComponent:
        return make_component(Path(path))


def make_component(directory: Path) -> RoleEncoderComponent:
    """The component for an encoder folder (``role_encoder.safetensors`` + ``encoder.json``)."""
    return RoleEncoderComponent(RoleEncoder.load(directory), EncoderSettings.load(directory))


@Language.factory(FACTORY, default_config={"model": None})
def make_role_encoder(nlp: Language, name: str, *, model: str | None) -> RoleEncoderComponent:
    """Factory of the encoder role mode; ``model``: the encoder folder (default: the bundled one)."""
    directory = Path(model) if model else default_encoder_dir()
    if not directory.is_dir():
        raise ModelError(f"role encoder folder not found: {directory}")
    return make_component(directory)
