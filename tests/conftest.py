"""Shared fixtures. Every test gets its own POLICYLENS_HOME (no writes to the real home)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True, scope="session")
def session_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A home for what module- and session-scoped fixtures build before a test's own home is set."""
    home = tmp_path_factory.mktemp("session_home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("POLICYLENS_HOME", str(home))
        yield home


@pytest.fixture(autouse=True)
def policylens_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path_factory.mktemp("policylens_home")
    monkeypatch.setenv("POLICYLENS_HOME", str(home))
    return home
