"""Cheaper pdfium calls for the hot loops (one call per word, one per page object).

pypdfium2's ctypes functions check and convert every argument, which costs about
twice the work pdfium itself does for a char box. The copies made here skip the
checks, so callers must pass exact C types: handles as ``c_void_p`` (or, cheaper,
as ``pointer_arg``), indices as Python ints, out-parameters through ``ctypes.byref``.
"""

from __future__ import annotations

import ctypes
import functools
from typing import Any

import pypdfium2.raw as raw


@functools.cache
def unchecked(name: str, restype: Any = ctypes.c_int) -> Any:
    """pdfium function ``name`` without per-call argument checks, returning ``restype``.

    The copy also keeps the GIL during the call (as ``ctypes.PyDLL`` functions do): handing
    the GIL over and taking it back cost a fifth of a char-box call, and these calls are
    short and made under ``PDFIUM_LOCK`` anyway.
    """
    function = getattr(raw, name)
    copy = _holding_gil(type(function))(ctypes.cast(function, ctypes.c_void_p).value)
    copy.restype = restype
    return copy


_HOLDING_GIL: dict[type, type] = {}


def _holding_gil(kind: Any) -> Any:
    """A subclass of the ctypes function type ``kind`` whose calls keep the GIL."""
    if kind not in _HOLDING_GIL:
        flags = kind._flags_ | ctypes._FUNCFLAG_PYTHONAPI  # type: ignore[attr-defined]
        _HOLDING_GIL[kind] = type(f"{kind.__name__}HoldingGil", (kind,), {"_flags_": flags})
    return _HOLDING_GIL[kind]


def address(handle: Any) -> ctypes.c_void_p:
    """A pypdfium2 raw handle (a typed pointer) as the ``c_void_p`` the unchecked calls take."""
    return ctypes.c_void_p(ctypes.cast(handle, ctypes.c_void_p).value)


# What ``pointer_arg`` offsets from: any ctypes object with a buffer, kept alive here.
_ANCHOR = ctypes.c_char()


def pointer_arg(handle: Any) -> Any:
    """A pypdfium2 raw handle as a ready-made ctypes argument, reusable for any number of calls.

    ctypes turns a ``c_void_p`` argument into a fresh argument object on every call; the
    object ``byref`` returns is passed as it is. ``byref(obj, offset)`` carries the address of
    ``obj`` plus ``offset``, so an offset from a fixed anchor carries the handle's own value.
    """
    value = ctypes.cast(handle, ctypes.c_void_p).value or 0
    return ctypes.byref(_ANCHOR, value - ctypes.addressof(_ANCHOR))
