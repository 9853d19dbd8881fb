"""Reading and writing the ranking stage's models: plain JSON files, never pickle."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from policylens.atomic import write_text_atomic
from policylens.errors import ModelError


def write_model(path: Path, data: dict[str, Any]) -> None:
    """Write a model's JSON data (atomically, creating the folder)."""
    write_text_atomic(path, json.dumps(data, indent=1) + "\n")


def read_model(path: Path, what: str) -> dict[str, Any]:
    """A model's JSON data; a missing or unreadable file is a ``ModelError`` that says what to do."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"{what} not found: train it with `python -m policylens.rank.train`",
                         path=str(path)) from None
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelError(f"cannot read {what}: {exc}", path=str(path)) from None
    if not isinstance(data, dict):
        raise ModelError(f"malformed {what}: not a JSON object", path=str(path))
    return data
