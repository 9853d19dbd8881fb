"""``policylens_role_encoder``: the opt-in accurate role mode (``--role-model encoder``).

Runs after ``policylens_role`` and replaces each sentence's role probabilities
by a mix of the linear role model's and the fine-tuned encoder's
(``encoder.py``): ``weight * encoder + (1 - weight) * linear``, the weight
stored with the encoder (``encoder.json``, chosen on held-out AGORA documents).
The encoder reads each sentence with its section heading and previous sentence,
as the linear model does. The linear probabilities are kept in
``doc.user_data[LINEAR]``: the scope model was trained on them and goes on
reading them, so this mode changes sentence roles and nothing else.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
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
    """``encoder.json``: how the encoder's probabilities are mixed with the linear model's."""

    weight: float
    meta: dict[str, Any]

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
        weight = data.get("weight")
        if not isinstance(weight, int | float) or not 0.0 <= weight <= 1.0:
            raise ModelError(f"{path}: weight must be a number in [0, 1]")
        return cls(weight=float(weight), meta=data)


def contexts(doc: Doc, spans: list[tuple[int, int]]) -> list[tuple[str, str, str]]:
    """``(section, previous sentence, sentence)`` of each sentence span of ``doc``."""
    context: Mapping[str, Any] = doc.user_data.get(CONTEXT) or {}
    section = str(context.get("section") or "")
    prev = str(context.get("prev") or "")
    whole = doc.user_data.get(TEXT) or doc.text
    out: list[tuple[str, str, str]] = []
    for start, end in spans:
        span = doc[start:end]
        text = whole[span.start_char:span.end_char].strip()
        out.append((section, prev, text))
        prev = text
    return out


class RoleEncoderComponent(BatchedComponent):
    """Mixes the encoder's role probabilities into ``doc._.roles``."""

    def __init__(self, encoder: RoleEncoder, settings: EncoderSettings) -> None:
        self.encoder = encoder
        self.settings = settings
        self.model = self  # ``pipeline.model_version`` reads ``.model.version``

    @property
    def version(self) -> str:
        return f"enc-{self.encoder.version}"

    def _predict(self, docs: list[Doc]) -> None:
        cases: list[tuple[str, str, str]] = []
        for doc in docs:
            roles = doc._.roles or []
            cases += contexts(doc, [(start, end) for start, end, _ in roles])
        if not cases:
            return
        probs = self.encoder.predict(cases).tolist()
        w = self.settings.weight
        k = 0
        for doc in docs:
            roles = list(doc._.roles or [])
            doc.user_data[LINEAR] = roles
            mixed = []
            for start, end, linear in roles:
                enc = dict(zip(ROLES, probs[k], strict=True))
                mixed.append((start, end, {r: w * enc[r] + (1.0 - w) * float(linear[r]) for r in ROLES}))
                k += 1
            doc._.roles = mixed

    def to_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> None:
        raise NotImplementedError("the role encoder is read from its folder, not serialised by spaCy")

    def from_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> RoleEncoderComponent:
        return make_component(Path(path))


def make_component(directory: Path) -> RoleEncoderComponent:
    return RoleEncoderComponent(RoleEncoder.load(directory), EncoderSettings.load(directory))


@Language.factory(FACTORY, default_config={"model": None})
def make_role_encoder(nlp: Language, name: str, *, model: str | None) -> RoleEncoderComponent:
    """Factory of the accurate role mode; ``model``: the encoder folder (default: the bundled one)."""
    directory = Path(model) if model else default_encoder_dir()
    if not directory.is_dir():
        raise ModelError(f"role encoder folder not found: {directory}")
    return make_component(directory)
