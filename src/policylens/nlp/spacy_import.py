"""Importing spaCy without its command line.

``import spacy`` runs ``from .cli.info import info``, which imports ``spacy.cli`` and with it
every spaCy command (download, train, project: weasel, requests, httpx and about 300 modules).
Tagging needs none of them, yet they were about a third of spaCy's import and of the serial
start-up that every ``policylens rank`` pays before its workers fork (docs/ranking.md#speed).

``defer_spacy_cli()`` (called by ``policylens.nlp`` before any of its modules imports spaCy)
puts two placeholders in ``sys.modules``: ``spacy.cli``, and ``spacy.cli.info`` holding an
``info`` that imports the real command line when called. Touching anything else of
``spacy.cli`` (``from spacy.cli import download``) also imports the real package in place of
the placeholder, so code that uses spaCy's commands sees them as usual; only their import
is deferred. Nothing happens when spaCy is already imported, or when
``POLICYLENS_SPACY_CLI=eager`` is set.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import os
import sys
import types
from typing import Any

_CLI, _INFO = "spacy.cli", "spacy.cli.info"
ENV = "POLICYLENS_SPACY_CLI"


class _DeferredCli(types.ModuleType):
    """Stands for ``spacy.cli`` until something of it is used."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return getattr(real_cli(), name)


def _deferred_info(*args: Any, **kwargs: Any) -> Any:
    """``spacy.info``: imports spaCy's command line, then runs its ``info``."""
    real_cli()
    return importlib.import_module(_INFO).info(*args, **kwargs)


def is_deferred() -> bool:
    """Whether ``spacy.cli`` is still the placeholder."""
    return isinstance(sys.modules.get(_CLI), _DeferredCli)


def real_cli() -> types.ModuleType:
    """The real ``spacy.cli``, imported in place of the placeholders if they are still there."""
    if is_deferred():
        for name in (_INFO, _CLI):
            sys.modules.pop(name, None)
        real = importlib.import_module(_CLI)
        spacy = sys.modules.get("spacy")
        if spacy is not None:
            spacy.cli = real  # type: ignore[attr-defined]
        return real
    return importlib.import_module(_CLI)


def defer_spacy_cli() -> bool:
    """Install the placeholders unless spaCy is imported already; whether they are in place."""
    if "spacy" in sys.modules or _CLI in sys.modules:
        return is_deferred()
    if os.environ.get(ENV, "").strip().lower() == "eager":
        return False
    try:
        spec = importlib.util.find_spec("spacy")
    except (ImportError, ValueError):
        return False
    if spec is None or not spec.submodule_search_locations:
        return False
    cli = _DeferredCli(_CLI, "spacy.cli, imported when first used (policylens.nlp.spacy_import)")
    # Submodules (``import spacy.cli.download``) are still found in spaCy's own folder.
    cli.__path__ = [os.path.join(location, "cli") for location in spec.submodule_search_locations]
    info = types.ModuleType(_INFO, "spacy.cli.info, imported when first used")
    info.info = _deferred_info  # type: ignore[attr-defined]
    sys.modules[_CLI] = cli
    sys.modules[_INFO] = info
    sys.meta_path.insert(0, _BindCli())
    return True


class _BindCli(importlib.abc.MetaPathFinder):
    """Sets ``spacy.cli`` on the spacy package once it is imported (the import system binds a
    submodule to its parent only when it loads it, and the placeholder was never loaded)."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname != "spacy":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        loader = getattr(spec, "loader", None)
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        run = loader.exec_module

        def exec_module(module: types.ModuleType) -> None:
            run(module)
            if is_deferred() and not hasattr(module, "cli"):
                setattr(module, "cli", sys.modules[_CLI])  # noqa: B010 - spaCy types no such attribute

        loader.exec_module = exec_module
        return spec
