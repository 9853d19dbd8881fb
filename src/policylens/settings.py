"""The one way every settings object is resolved from what a caller passes.

Each stage keeps its options in a frozen dataclass (``ExtractSettings``,
``IndexSettings``, ``ReportSettings``...) whose ``resolve`` accepts ``None``
(the defaults), a mapping of overrides, or an instance, and rejects unknown
names with a message that lists the known ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Any, TypeVar

from policylens.errors import UsageError

S = TypeVar("S")


def resolve_settings(cls: type[S], value: S | Mapping[str, Any] | None, *, what: str) -> S:
    """``cls()`` for ``None``, ``value`` itself for an instance, ``cls(**value)`` for a mapping.

    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class Demo:
    ...     size: int = 1
    >>> resolve_settings(Demo, {"size": 3}, what="demo")
    Demo(size=3)
    >>> resolve_settings(Demo, {"colour": 3}, what="demo")
    Traceback (most recent call last):
    ...
    policylens.errors.UsageError: unknown demo setting(s): colour (known: size)
    """
    if value is None:
        return cls()
    if isinstance(value, cls):
        return value
    if isinstance(value, Mapping):
        known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(value) - known)
        if unknown:
            raise UsageError(f"unknown {what} setting(s): {', '.join(unknown)} "
                             f"(known: {', '.join(sorted(known))})")
        return cls(**value)
    raise UsageError(f"{what} settings must be None, a mapping or {cls.__name__}, "
                     f"not {type(value).__name__}")
