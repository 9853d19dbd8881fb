"""Engines run the same per-document work over many inputs.

``LocalEngine`` uses worker processes on this machine; ``DaskEngine`` sends the
work to a Dask distributed cluster. Both yield one ``Outcome`` per input as it
completes, so callers can show progress and one bad document never stops the
rest: its error is recorded in its ``Outcome``. That holds even when a document
kills the process working on it (a segfault in a C library, the OOM killer):
only that document fails. Locally, each document also has a time limit
(``--timeout``; ``$POLICYLENS_DOC_TIMEOUT`` or 600 s by default, which ``corpus
refresh`` uses too): a document that stalls or crawls has its worker process
killed and replaced, fails with error code ``timeout``, and the others go on.
"""

from __future__ import annotations

import ctypes
import gc
import itertools
import logging
import math
import os
import queue
import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Sized
from concurrent.futures import Future
from dataclasses import dataclass, replace
from typing import Any, Generic, Protocol, TypeVar

from policylens.errors import EngineError, PolicylensError, UsageError

log = logging.getLogger(__name__)
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

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[Outcome[R]]: ...

    def close(self) -> None: ...


def default_workers() -> int:
    """The number of cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


DEFAULT_TIMEOUT = 600.0  # seconds per document: a 1,000-page PDF takes a few; a stall, forever
TIMEOUT_ENV = "POLICYLENS_DOC_TIMEOUT"  # overrides the default (cron runs of ``corpus refresh``)
_PR_SET_PDEATHSIG = 1  # linux/prctl.h
# Items in flight per worker: enough that a worker never waits for its next one, few enough that
# results stream back and a huge folder (or manifest) is never queued, or held, at once.
IN_FLIGHT_PER_WORKER = 2


def default_timeout() -> float | None:
    """The per-document time limit when none is given: ``$POLICYLENS_DOC_TIMEOUT`` or 600 s.

    ``0`` means no limit (``None``).
    """
    value = os.environ.get(TIMEOUT_ENV, "").strip()
    if not value:
        return DEFAULT_TIMEOUT
    try:
        seconds = float(value)
    except ValueError:
        raise UsageError(f"{TIMEOUT_ENV} must be a number of seconds, not {value!r}") from None
    return check_timeout(seconds, what=TIMEOUT_ENV)


def check_timeout(seconds: float | None, *, what: str = "--timeout") -> float | None:
    """A time limit in seconds, or ``None`` for none (given as ``0``); a negative one is a usage error."""
    if seconds is None or seconds == 0 or seconds == math.inf:
        return None
    if not seconds > 0:  # negative, or NaN
        raise UsageError(f"{what} must be a positive number of seconds (0 for no limit), not {seconds:g}")
    return float(seconds)


def _start_worker(parent: int, warm: Callable[[], object] | None) -> None:
    """Pool initializer: die with the process that started the pool, then load what items need.

    A worker outliving a killed ``corpus refresh`` would keep running and, holding
    a copy of its file descriptors, keep the store's lock taken: on Linux the
    kernel kills the worker when its parent dies (``PR_SET_PDEATHSIG``).
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # pragma: no cover - not Linux: workers see EOF and exit later
        pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)
    if warm is not None:
        warm()


def _as_sent(outcome: Outcome[R], item: Any) -> Outcome[R]:
    """``outcome`` naming the very ``item`` that was sent, not the copy a worker pickled back:
    callers find an outcome's item by identity (``progress_map``), where matching copies by
    value scanned every item for every outcome (quadratic in the corpus)."""
    return outcome if outcome.item is item else replace(outcome, item=item)


def _timed_out(item: Any, timeout: float) -> Outcome[Any]:
    log.info("%s: stopped after the time limit of %g s; its worker process was killed and replaced",
             item, timeout)
    return Outcome(item, error=f"took longer than the time limit of {timeout:g} s per document "
                   "(--timeout); its worker process was stopped", error_code="timeout", seconds=timeout)


class LocalEngine:
    """Worker processes on this machine, each document with a time limit.

    A ``pebble`` process pool runs the items: a document that runs past
    ``timeout`` seconds has its worker process killed and replaced, and fails with
    error code ``timeout``; a document that kills its worker (a segfault in a C
    library, the OOM killer) fails with error code ``worker`` and a new worker
    takes over. Either way the other documents go on. ``workers=1`` with no time
    limit runs in this process (no limit can stop a stuck call in this process).

    ``warm`` loads what every item needs (the tagging pipeline), so that loading
    it is not counted against the first document's time: it runs here first (forked
    workers then share what it loaded) and in each worker before its first item.
    """

    def __init__(self, workers: int | None = None, *, timeout: float | None = DEFAULT_TIMEOUT,
                 warm: Callable[[], object] | None = None) -> None:
        self.workers = workers if workers is not None else default_workers()
        if self.workers < 1:
            raise UsageError(f"--workers must be at least 1, not {self.workers}")
        self.timeout = check_timeout(timeout)
        self.warm = warm

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[Outcome[R]]:
        """Outcomes as they complete. ``items`` may be lazy (a refresh feeds documents as they
        download): it is read from a thread only while fewer than ``2 * workers`` items are in
        flight, so an item that is slow to arrive never holds back the outcomes of earlier ones."""
        from pebble import ProcessPool

        pending = iter(items)
        head = list(itertools.islice(pending, self.workers))  # fewer: that is all of them
        if not head:
            return
        if self.timeout is None and (self.workers == 1 or len(head) == 1):
            for item in itertools.chain(head, pending):
                yield run_isolated(fn, item)
            return
        if self.warm is not None:
            self.warm()
            # Forked workers share the loaded pipeline copy-on-write; a collection touching its
            # objects would write to (and so copy) their pages in every worker.
            gc.freeze()
        log.debug("local engine: %s on %d worker processes, time limit %s",
                  f"{len(items)} items" if isinstance(items, Sized) else "items as they come",
                  min(self.workers, len(head)), f"{self.timeout:g} s" if self.timeout else "none")
        pool = ProcessPool(max_workers=min(self.workers, len(head)), initializer=_start_worker,
                           initargs=(os.getpid(), self.warm))
        feed: _Feed | None = None
        finished = False
        try:
            feed = _Feed(pool, fn, head, pending, window=IN_FLIGHT_PER_WORKER * self.workers,
                         timeout=self.timeout)
            for future, item in feed.completed():
                yield self._outcome(future, item)
            finished = True
        finally:
            if feed is not None:
                feed.stop()
            if finished:
                pool.close()
            else:  # interrupted, or the caller stopped reading: no worker outlives the map
                pool.stop()
            pool.join()
            if self.warm is not None:
                gc.unfreeze()

    def _outcome(self, future: Future[Outcome[R]], item: Any) -> Outcome[R]:
        from concurrent.futures import TimeoutError as FutureTimeout

        from pebble import ProcessExpired

        try:
            return _as_sent(future.result(), item)
        except FutureTimeout:
            return _timed_out(item, self.timeout or 0.0)
        except ProcessExpired as exc:
            log.info("%s: its worker process died (exit code %s); a new one takes over", item, exc.exitcode)
            return Outcome(item, error="the worker process died while processing this document "
                           f"(exit code {exc.exitcode}: a crash in a C library, or killed, e.g. "
                           "out of memory)", error_code="worker")
        except Exception as exc:  # this item alone could not be sent or returned (pickling),
            # or the pool broke (every worker dying on start): that item fails, not the run
            return Outcome(item, error=f"worker process failed: {type(exc).__name__}: {exc}",
                           error_code="worker")

    def close(self) -> None:
        """Nothing to release: each ``map`` call owns its pool."""


class _Feed:
    """Schedules items on a pool from a thread, at most ``window`` in flight; hands back each completion.

    The items are read on the feeding thread, so a lazy source that blocks (a
    download still under way) delays only what comes after it. If reading the
    source raises, that is raised where completions are read.
    """

    _END = object()

    def __init__(self, pool: Any, fn: Callable[[Any], Any], head: list[Any], rest: Iterator[Any], *,
                 window: int, timeout: float | None) -> None:
        self._pool, self._fn, self._items, self._timeout = pool, fn, rest, timeout
        self._slots = threading.Semaphore(window)
        self._done: queue.SimpleQueue[tuple[Any, Any]] = queue.SimpleQueue()
        self._stopping = threading.Event()
        # The first items are scheduled here: the pool forks its first workers in the thread
        # that schedules first, and PR_SET_PDEATHSIG kills a worker when *that thread* ends.
        for item in head:
            self._schedule(item)
        self._thread = threading.Thread(target=self._run, args=(len(head),), name="policylens-engine-feed",
                                        daemon=True)
        self._thread.start()

    def _schedule(self, item: Any) -> None:
        self._slots.acquire()
        if self._stopping.is_set():
            return
        future = self._pool.schedule(run_isolated, args=(self._fn, item), timeout=self._timeout)
        future.add_done_callback(lambda done: self._done.put((done, item)))

    def _run(self, scheduled: int) -> None:
        error: BaseException | None = None
        try:
            for item in self._items:
                self._schedule(item)
                if self._stopping.is_set():
                    break
                scheduled += 1
        except BaseException as exc:  # the source failed: raised in the reading thread
            error = exc
        self._done.put((self._END, (scheduled, error)))

    def completed(self) -> Iterator[tuple[Future[Any], Any]]:
        received, total, error = 0, None, None
        while total is None or received < total:
            future, item = self._done.get()
            if future is self._END:
                total, error = item
                continue
            received += 1
            self._slots.release()
            yield future, item
        if error is not None:
            raise error

    def stop(self) -> None:
        """Schedule nothing more (the thread may still be waiting for the source's next item)."""
        self._stopping.set()
        self._slots.release()


class DaskEngine:
    """Runs the work on a Dask distributed cluster.

    ``scheduler`` is an address such as ``tcp://10.0.0.5:8786``; ``None`` starts a
    ``LocalCluster`` with ``workers`` processes (useful for tests and laptops). With
    ``scatter`` each item is first sent to the workers as data of its own and the task names
    it by key: items that carry a document's bytes then never sit in the task graph.
    """

    def __init__(self, scheduler: str | None = None, workers: int | None = None, *,
                 scatter: bool = False) -> None:
        self._scatter = scatter
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

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[Outcome[R]]:
        from distributed import as_completed as dask_as_completed

        # Tasks carry what the caller gives: for rank, a path (a few hundred bytes with the
        # function), never a document's bytes. They are submitted a window at a time, and ``items``
        # is read only as tasks complete, so the scheduler holds a bounded number of tasks and
        # results, and a lazy source is read as it comes.
        window = max(2, self._threads()) * IN_FLIGHT_PER_WORKER
        source = iter(items)
        first = list(itertools.islice(source, window))
        if not first:
            return
        item_of: dict[Any, Any] = {}  # task key -> item

        def submit(batch: list[T]) -> list[Any]:
            if not batch:
                return []
            # hash=False: the bytes are not hashed, and two equal documents stay two items
            args = self.client.scatter(batch, hash=False) if self._scatter else batch
            futures = self.client.map(run_isolated, [fn] * len(batch), args, pure=False)
            item_of.update({future.key: item for future, item in zip(futures, batch, strict=True)})
            return list(futures)

        running = dask_as_completed(submit(first))
        suspects: list[tuple[Any, str]] = []
        for future in running:
            item = item_of.pop(future.key)
            try:
                outcome = future.result()
            except Exception as exc:  # the worker died (KilledWorker) or the task never ran
                suspects.append((item, f"{type(exc).__name__}: {exc}"))
            else:
                yield _as_sent(outcome, item)
            finally:
                future.release()  # the scheduler forgets the result once it is here
            for added in submit(list(itertools.islice(source, 1))):
                running.add(added)
        if len(suspects) == 1:
            item, error = suspects[0]
            yield _worker_failure(item, error)
            return
        # A dying worker takes every task queued on it down too, and the scheduler
        # cannot tell which one killed it: run each suspect alone, so only the
        # document that kills a worker by itself fails.
        for item, _ in suspects:
            try:
                yield _as_sent(self.client.submit(run_isolated, fn, item, pure=False).result(), item)
            except Exception as exc:
                yield _worker_failure(item, f"{type(exc).__name__}: {exc}")

    def _threads(self) -> int:
        """Task slots in the cluster now (workers x threads); at least one."""
        return max(1, int(sum(self.client.nthreads().values())))

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


def get_engine(name: str = "local", *, workers: int | None = None, scheduler: str | None = None,
               timeout: float | None = None, warm: Callable[[], object] | None = None,
               scatter: bool = False) -> Engine:
    """The engine named on the command line (``--engine local|dask``).

    ``timeout`` is the local engine's time limit per document in seconds (``0``: none;
    ``None``: ``default_timeout()``, which is also what ``corpus refresh`` uses), and
    ``warm`` what its workers load before their first document (see ``LocalEngine``);
    ``scatter``: the dask engine sends items to the workers apart from the tasks (``DaskEngine``).
    """
    if name == "local":
        if scheduler:
            raise UsageError("--scheduler goes with --engine dask")
        return LocalEngine(workers, timeout=default_timeout() if timeout is None else timeout, warm=warm)
    if name == "dask":
        if timeout:
            raise UsageError("--timeout is enforced by the local engine only: the dask engine has no "
                             "per-document time limit (give it 0, or use --engine local)")
        return DaskEngine(scheduler, workers, scatter=scatter)
    raise UsageError(f"unknown engine {name!r}: use 'local' or 'dask'")
