"""Where the tagging model's files are, and its version, read without spaCy or numpy.

A refresh needs the model's version at its start to tell which stored scores are
current; when nothing changed it needs nothing else. Reading the version from the
model files (``version`` in each JSON file) costs tens of milliseconds, where
building the pipeline to ask it costs seconds. ``policylens.nlp.pipeline.model_version``
gives the same answer from a loaded pipeline (a test holds them equal).
"""

from __future__ import annotations

import hashlib
import json
import re
from functools import cache
from importlib import resources
from pathlib import Path

from policylens.errors import ModelError

#: The content model's file, then the role and scope models' (optional: a v1 model has neither).
MODEL_FILES = ("model.json", "role.json", "scope.json")


@cache
def default_model_dir() -> Path:
    """The bundled model: inside an installed wheel, else the repository's ``models/``."""
    packaged = resources.files("policylens") / "_models" / "governance"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[3] / "models" / "governance"


def resolve_model_dir(model: str | Path | None) -> Path:
    """``None`` -> the default model folder; a path -> that folder (must exist)."""
    directory = default_model_dir() if model is None else Path(model)
    if not directory.is_dir():
        raise ModelError(f"model folder not found: {directory}")
    return directory


def model_version(model: str | Path | None = None) -> str:
    """The version a pipeline built from ``model`` reports: the content model's, or one hash of all three.

    >>> len(model_version()) == 12
    True
    """
    directory = resolve_model_dir(model)
    content, *others = (directory / name for name in MODEL_FILES)
    if not content.is_file():
        raise ModelError(f"no governance model in {directory} (expected {content.name}); "
                         "run `policylens train` or pass --model DIR")
    versions = [_version(path) for path in (content, *others) if path.is_file()]
    if len(versions) == 1:
        return versions[0]
    return hashlib.sha256("/".join(versions).encode()).hexdigest()[:12]


def _version(path: Path) -> str:
    """The top-level ``version`` of a model file (``""`` if it has none), as ``json.load`` would see it.

    Only the members up to ``version`` are decoded: models write it before their
    weights, whose floats take a second to parse on a busy machine.
    """
    try:
        text = path.read_text(encoding="utf-8")
        at = _space(text, 0)
        if text[at:at + 1] != "{":
            raise ModelError(f"{path}: malformed model (not a JSON object)")
        at = _space(text, at + 1)
        while text[at:at + 1] == '"':
            key, at = _DECODER.raw_decode(text, at)
            at = _space(text, at)
            if text[at:at + 1] != ":":
                break
            value, at = _DECODER.raw_decode(text, _space(text, at + 1))
            if key == "version":
                return str(value)
            at = _space(text, at)
            if text[at:at + 1] != ",":
                break
            at = _space(text, at + 1)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path}: cannot read model ({exc})") from None
    return ""


_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\n\r]*")


def _space(text: str, at: int) -> int:
    """The index of the first non-whitespace character from ``at``."""
    match = _SPACE.match(text, at)
    return match.end() if match else at
