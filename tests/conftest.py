"""Shared fixtures. Every test gets its own POLICYLENS_HOME (no writes to the real home)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def policylens_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path_factory.mktemp("policylens_home")
    monkeypatch.setenv("POLICYLENS_HOME", str(home))
    return home
