"""What the installed package ships besides code."""

from __future__ import annotations

from importlib.resources import files


def test_the_package_is_marked_as_typed() -> None:
    # PEP 561: without py.typed, type checkers ignore policylens' annotations in users' code
    assert files("policylens").joinpath("py.typed").is_file()
