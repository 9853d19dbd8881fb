"""Docstring examples are documentation: every one of them must run."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from pathlib import Path

import pytest

import policylens


def _modules_with_examples() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(policylens.__path__, prefix="policylens."):
        spec = importlib.util.find_spec(info.name)
        if spec and spec.origin and ">>> " in Path(spec.origin).read_text(encoding="utf-8"):
            names.append(info.name)
    return sorted(names)


MODULES = _modules_with_examples()


def test_some_modules_have_examples() -> None:
    assert len(MODULES) >= 5, MODULES


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples_run(module: str) -> None:
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
