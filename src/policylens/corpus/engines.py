"""Engines run the same per-document work over many inputs.

``LocalEngine`` uses worker processes on this machine; ``DaskEngine`` sends the
work to a Dask distributed cluster. Both yield one ``Outcome`` per input as it
completes, so callers can show progress and one bad document never stops the
rest: its error is recorded in its ``Outcome``. That holds even when a document
kills the process working on it (a segfault in a C library, the OOM killer):
only that document fails, the others run again.
"""

from __future__ import annotations

import multiprocessing
import os
import time
import traceback
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from policylens.errors import EngineError, PolicylensError, UsageError

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Outcome(Generic[R]):
    """The result of one unit of work: a value, or an error with a stable code."""

    item: Any
    value: R | None = None
    error: str | None = None
    error_code: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


def run_isolated(fn: Callable[[T], R], item: T) -> Outcome[R]:
    """Run ``fn(item)``, turning its failure into an ``Outcome`` instead of an exception.

    Expected failures (``PolicylensError``, ``OSError``) keep their message. Anything
    else is a bug in policylens; it is still isolated to this one document (so a
    folder run goes on) but reported as ``internal`` with the exception type.
    """
    start = time.perf_counter()
    try:
        value = fn(item)
    except PolicylensError as exc:
        return Outcome(item, error=exc.message, error_code=exc.code,
                       seconds=time.perf_counter() - start)
    except OSError as exc:
        return Outcome(item, error=f"{exc.strerror or exc}", error_code="os",
                       seconds=time.perf_counter() - start)
    except Exception as exc:  # per-document isolation: report the bug, go on
        where = traceback.extract_tb(exc.__traceback__)[-1]
        message = f"internal error {type(exc).__name__}: {exc} (at {where.filename}:{where.lineno})"
        return Outcome(item, error=message, error_code="internal",
                       seconds=time.perf_counter() - start)
    return Outcome(item, value=value, seconds=time.perf_counter() - start)


class Engine(Protocol):
    """Maps a picklable function over items, yielding outcomes as they complete."""

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> Iterator[Outcome[R]]: ...

    def close(self) -> None: ...


def default_workers() -> int:
    """The number of cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


_STARTED, _FINISHED = 1, 2
_started: Any = None  # in a worker process: the shared progress of its pool's batch


def _remember(progress: Any) -> None:
    """Pool initializer: where this worker notes which items it starts and finishes."""
    global _started
    _started = progress


def _run_tracked(fn: Callable[[T], R], index: int, item: T) -> Outcome[R]:
    """``run_isolated`` in a pool worker, noting in shared memory that item ``index`` is under way.

    An item still marked started when the pool breaks was running when a worker
    died: it is a suspect. Everything else in the batch is innocent.
    """
    _started[index] = _STARTED
    try:
        return run_isolated(fn, item)
    finally:
        _started[index] = _FINISHED


class LocalEngine:
    """Worker processes on this machine; ``workers=1`` runs in this process.

    When a worker process dies, the pool breaks and every unfinished item with
    it. The items that were running then are the suspects: one suspect is the
    document that killed its worker and fails with error code ``worker``; several
    (one per busy worker) are run again one at a time, which names the culprit.
    Every other item is re-run in a fresh pool. A pool that breaks with no item
    running (a worker that dies on start) is restarted at most ``max_restarts``
    times before the remaining items fail.
    """

    def __init__(self, workers: int | None = None, *, max_restarts: int = 3) -> None:
        self.workers = workers if workers is not None else default_workers()
        if self.workers < 1:
            raise UsageError(f"--workers must be at least 1, not {self.workers}")
        self.max_restarts = max_restarts

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> Iterator[Outcome[R]]:
        items = list(items)
        if self.workers == 1 or len(items) <= 1:
            for item in items:
                yield run_isolated(fn, item)
            return
        pending, alone, restarts = items, [], 0  # alone: suspects, run one at a time
        while pending or alone:
            width = min(self.workers, len(pending)) if pending else 1
            batch = pending or alone
            if pending:
                pending = []
            else:
                alone = []
            broken = yield from self._pool_round(fn, batch, width)
            if broken is None:
                continue
            suspects, innocent = broken
            if len(suspects) == 1:
                yield Outcome(suspects[0], error="the worker process died while processing this document "
                              "(a crash in a C library, or killed, e.g. out of memory)", error_code="worker")
            alone.extend(suspects if len(suspects) > 1 else ())
            (pending if width > 1 else alone).extend(innocent)
            if not suspects:
                restarts += 1
                if restarts > self.max_restarts:
                    for item in [*pending, *alone]:
                        yield Outcome(item, error=f"the worker pool died {restarts} times outside any "
                                      "document; giving up", error_code="worker")
                    return

    def _pool_round(self, fn: Callable[[T], R], batch: list[T],
                    width: int) -> Generator[Outcome[R], None, tuple[list[T], list[T]] | None]:
        """Run ``batch`` in a fresh pool of ``width`` processes, yielding outcomes as they complete.

        Returns ``None`` when the pool survived, else the unfinished items split
        into suspects (running when it broke) and innocents.
        """
        progress = multiprocessing.RawArray("b", len(batch))
        unfinished: list[int] = []
        with ProcessPoolExecutor(max_workers=width, initializer=_remember, initargs=(progress,)) as pool:
            futures = {}
            for index, item in enumerate(batch):
                try:
                    futures[pool.submit(_run_tracked, fn, index, item)] = index
                except BrokenProcessPool:  # a worker died before everything was submitted
                    unfinished.extend(range(index, len(batch)))
                    break
            for future in as_completed(futures):
                index = futures[future]
                try:
                    yield future.result()
                except BrokenProcessPool:
                    unfinished.append(index)
                except Exception as exc:  # this item alone could not be sent or returned (pickling)
                    yield Outcome(batch[index], error=f"worker process failed: {exc}", error_code="worker")
        if not unfinished:
            return None
        suspects = [batch[i] for i in sorted(unfinished) if progress[i] == _STARTED]
        innocent = [batch[i] for i in sorted(unfinished) if progress[i] != _STARTED]
        return suspects, innocent

    def close(self) -> None:
        """Nothing to release: each ``map`` call owns its pools."""


class DaskEngine:
    """Runs the work on a Dask distributed cluster.

    ``scheduler`` is an address such as ``tcp://10.0.0.5:8786``; ``None`` starts a
    ``LocalCluster`` with ``workers`` processes (useful for tests and laptops).
    """

    def __init__(self, scheduler: str | None = None, workers: int | None = None) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:  # pragma: no cover - it is a dependency
            raise EngineError("the dask engine needs 'distributed': pip install distributed") from exc
        self._cluster = None
        try:
            if scheduler is None:
                self._cluster = LocalCluster(
                    n_workers=workers or default_workers(), threads_per_worker=1,
                    processes=True, dashboard_address=None,
                )
                self.client = Client(self._cluster)
            else:
                self.client = Client(scheduler, timeout="10s")
        except OSError as exc:
            raise EngineError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from exc

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> Iterator[Outcome[R]]:
        from distributed import as_completed as dask_as_completed

        items = list(items)
        if not items:
            return
        futures = self.client.map(run_isolated, [fn] * len(items), items, pure=False)
        item_of = {future.key: item for future, item in zip(futures, items, strict=True)}
        suspects: list[tuple[Any, str]] = []
        for future in dask_as_completed(futures):
            try:
                yield future.result()
            except Exception as exc:  # the worker died (KilledWorker) or the task never ran
                suspects.append((item_of[future.key], f"{type(exc).__name__}: {exc}"))
        if len(suspects) == 1:
            item, error = suspects[0]
            yield _worker_failure(item, error)
            return
        # A dying worker takes every task queued on it down too, and the scheduler
        # cannot tell which one killed it: run each suspect alone, so only the
        # document that kills a worker by itself fails.
        for item, _ in suspects:
            try:
                yield self.client.submit(run_isolated, fn, item, pure=False).result()
            except Exception as exc:
                yield _worker_failure(item, f"{type(exc).__name__}: {exc}")

    def close(self) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()

    def __enter__(self) -> DaskEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _worker_failure(item: Any, error: str) -> Outcome[Any]:
    return Outcome(item, error=f"dask worker failed: {error}", error_code="worker")


def get_engine(name: str = "local", *, workers: int | None = None,
               scheduler: str | None = None) -> Engine:
    """The engine named on the command line (``--engine local|dask``)."""
    if name == "local":
        if scheduler:
            raise UsageError("--scheduler goes with --engine dask")
        return LocalEngine(workers)
    if name == "dask":
        return DaskEngine(scheduler, workers)
    raise UsageError(f"unknown engine {name!r}: use 'local' or 'dask'")
