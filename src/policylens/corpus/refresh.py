"""Refreshing a store from a manifest: fetch what changed, process it, record it.

One refresh is one row in ``runs``. Under the store's lock it

1. marks runs left ``running`` by a killed refresh as ``aborted``;
2. syncs the manifest's documents (documents it no longer lists are marked
   ``removed``, never deleted);
3. fetches every document (conditional requests, bounded concurrency) in this
   process, straight into the object store;
4. sends new or changed documents, and unchanged ones whose score came from an
   older model (re-tagged from their stored blocks), to the engine as soon as
   each download ends, so fetching and processing overlap;
5. commits the results as they arrive, a batch of documents per transaction
   (each document in its own savepoint);
6. removes raw files that no stored version references (``corpus/gc.py``):
   downloads of a killed refresh, or of documents that failed to process.

A refresh killed at any moment leaves every committed document complete; the
next refresh picks up the rest, since a document counts as done only once its
version, blocks, sentences and score are committed together. A kill loses at
most the work of one uncommitted batch (``BATCH_DOCUMENTS``), which the next
refresh does again.

What a refresh holds in memory does not grow with the manifest beyond its list of
entries and ids: downloads go to disk, at most a few documents wait for a worker
(the engine reads the work lazily), and results are written as they come.
"""

from __future__ import annotations

import contextlib
import functools
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from policylens.corpus.engines import get_engine
from policylens.corpus.fetch import Fetcher, FetchResult, FetchSettings
from policylens.corpus.gc import Collected, collect_locked
from policylens.corpus.lock import RefreshLock
from policylens.corpus.manifest import Manifest, ManifestEntry, load_manifest
from policylens.corpus.process import WorkItem, model_version, run_item
from policylens.corpus.store import Fetched, Store, Version
from policylens.errors import StoreError, UsageError
from policylens.extract.document import Document
from policylens.nlp.types import TaggedDocument
from policylens.rank.types import FrameworkScore
from policylens.settings import resolve_settings

PAUSE_ENV = "POLICYLENS_TEST_PAUSE_AFTER"
MOVE_EPSILON = 5e-4  # indexes are reported to 4 decimals: smaller moves are noise
BATCH_DOCUMENTS = 32  # processed documents committed in one transaction, at most
BATCH_SECONDS = 2.0  # a batch is committed once its oldest result is this old (checked as results come)

ProgressCallback = Callable[[str, int, int, str], None]  # phase, done, total, document id


@dataclass(frozen=True, slots=True)
class RefreshSettings:
    """Every knob of a refresh; ``RefreshSettings.resolve`` accepts None, a dict or an instance."""

    engine: str = "local"
    workers: int | None = None
    scheduler: str | None = None
    fetch: FetchSettings = field(default_factory=FetchSettings)
    remove_missing: bool = True  # mark documents the manifest no longer lists as removed
    process_timeout: float | None = None  # seconds per document's extract+tag (None: engine default)

    def __post_init__(self) -> None:
        if self.engine not in ("local", "dask"):
            raise UsageError(f"unknown engine {self.engine!r}: use 'local' or 'dask'")
        if self.workers is not None and self.workers < 1:
            raise UsageError(f"--workers must be at least 1, not {self.workers}")
        if self.scheduler and self.engine != "dask":
            raise UsageError("--scheduler goes with --engine dask")
        if self.process_timeout is not None and self.engine == "dask":
            raise UsageError("--process-timeout is enforced by the local engine only")

    @classmethod
    def resolve(cls, value: RefreshSettings | Mapping[str, Any] | None = None) -> RefreshSettings:
        """Like every settings object; a mapping may also give the fetch options flat (``timeout=``)."""
        if isinstance(value, Mapping):
            fetch_keys = {f.name for f in fields(FetchSettings)}
            unknown = sorted(set(value) - fetch_keys - {f.name for f in fields(cls)})
            if unknown:
                raise UsageError(f"unknown refresh setting(s): {', '.join(unknown)}")
            rest = {k: v for k, v in value.items() if k not in fetch_keys}
            try:
                fetch = replace(resolve_settings(FetchSettings, rest.pop("fetch", None), what="fetch"),
                                **{k: v for k, v in value.items() if k in fetch_keys})
            except ValueError as exc:  # FetchSettings checks its own values
                raise UsageError(str(exc)) from None
            value = {**rest, "fetch": fetch}
        return resolve_settings(cls, value, what="refresh")


@dataclass(frozen=True, slots=True)
class Moved:
    """A document whose index changed in this refresh."""

    id: str
    old: float
    new: float

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "old": round(self.old, 4), "new": round(self.new, 4)}


@dataclass(frozen=True, slots=True)
class RefreshReport:
    """What one refresh changed."""

    run_id: int
    model_version: str
    new: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    failed: tuple[tuple[str, str], ...] = ()  # (id, reason)
    moved: tuple[Moved, ...] = ()
    rescored: tuple[str, ...] = ()  # unchanged content, re-tagged with a newer model
    aborted_runs: tuple[int, ...] = ()  # stale runs found and marked aborted
    collected: Collected = field(default_factory=Collected)  # unreferenced raw files removed
    pages: int = 0  # pages extracted in this run
    seconds: float = 0.0

    @property
    def processed(self) -> int:
        return len(self.new) + len(self.updated) + len(self.rescored)

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` output."""
        return {
            "new": list(self.new), "updated": list(self.updated), "unchanged": list(self.unchanged),
            "removed": list(self.removed),
            "failed": [{"id": doc_id, "error": error} for doc_id, error in self.failed],
            "moved": [m.to_dict() for m in self.moved],
        }

    def counts(self) -> dict[str, int]:
        return {"new": len(self.new), "updated": len(self.updated), "unchanged": len(self.unchanged),
                "removed": len(self.removed), "failed": len(self.failed), "moved": len(self.moved),
                "rescored": len(self.rescored), "pages": self.pages, "collected": self.collected.files}


def refresh(manifest: Manifest | str | Path, store: Store | str | Path,
            settings: RefreshSettings | Mapping[str, Any] | None = None, *,
            progress: ProgressCallback | None = None) -> RefreshReport:
    """Bring ``store`` up to date with ``manifest``; see the module docstring.

    Raises ``LockHeld`` when another refresh holds the store's lock and
    ``ManifestError`` for an invalid manifest; a document that cannot be
    fetched or processed is reported in ``failed`` and the rest go on.
    """
    settings = RefreshSettings.resolve(settings)
    if not isinstance(manifest, Manifest):
        manifest = load_manifest(manifest)
    own_store = not isinstance(store, Store)
    db = Store(store) if not isinstance(store, Store) else store
    try:
        with RefreshLock(db.path):
            return _Refresh(manifest, db, settings, progress or _quiet).run()
    finally:
        if own_store:
            db.close()


def _quiet(phase: str, done: int, total: int, current: str) -> None:
    """The default progress callback: say nothing."""


class _Refresh:
    """The state of one refresh while it runs (the lock is held)."""

    def __init__(self, manifest: Manifest, store: Store, settings: RefreshSettings,
                 progress: ProgressCallback) -> None:
        self.manifest, self.store, self.settings, self.progress = manifest, store, settings, progress
        self.entries: dict[str, ManifestEntry] = {e.id: e for e in manifest.documents}
        self.new: list[str] = []
        self.updated: list[str] = []
        self.unchanged: list[str] = []
        self.rescored: list[str] = []
        self.failed: dict[str, str] = {}
        self.fetched: dict[str, Fetched] = {}  # new content being processed, by id (until committed)
        self.moved: list[Moved] = []
        self.pages = 0
        self.committed = 0
        self.queued = 0  # work items handed to the engine so far
        # The engine reads the work (which reads and writes the store) on its own thread
        # while this one commits results: one store operation at a time.
        self.store_lock = threading.Lock()
        self.batch: list[tuple[str, Document, TaggedDocument, FrameworkScore]] = []
        self.batch_started = 0.0
        self.flush_error: BaseException | None = None  # what stopped the flusher thread
        self.links: Path | None = None  # the run's folder of named links to raw files (set in run)
        # Workers of a cluster we started ourselves share this machine's files and are given
        # paths; a cluster at a scheduler address may run elsewhere and is sent the bytes, apart
        # from the tasks (scattered), so no document passes through the scheduler.
        self._remote = settings.engine == "dask" and settings.scheduler is not None

    def run(self) -> RefreshReport:
        start = time.perf_counter()
        aborted = self.store.abort_stale_runs()
        model = model_version()
        run_id = self.store.begin_run(manifest=str(self.manifest.path.resolve()), model_version=model,
                                      pid=os.getpid())
        try:
            removed = self.store.sync_documents(self.manifest, remove_missing=self.settings.remove_missing)
            old_index = self.store.latest_index()
            previous = self.store.current_versions()
            scored_with = self.store.score_models()
            with Fetcher(self.store.objects, self.settings.fetch) as fetcher, \
                    tempfile.TemporaryDirectory(prefix="policylens-refresh-") as links:
                self.links = Path(links)
                results = fetcher.fetch_all(self.entries.values(), previous)
                self._process(self._work(results, previous, scored_with, model), previous, old_index,
                              run_id)
            collected = collect_locked(self.store)
        except BaseException as exc:  # record why the run stopped, then let it propagate
            if not self.store.damaged:  # a damaged store is never written to
                with contextlib.suppress(StoreError):  # the error that stopped the run matters more
                    self.store.finish_run(run_id, status="failed", counts={},
                                          errors=[{"id": "*", "error": f"{type(exc).__name__}: {exc}"}])
            raise
        report = RefreshReport(
            run_id=run_id, model_version=model, new=tuple(sorted(self.new)),
            updated=tuple(sorted(self.updated)), unchanged=tuple(sorted(self.unchanged)),
            removed=tuple(removed), failed=tuple(sorted(self.failed.items())),
            moved=tuple(sorted(self.moved, key=lambda m: m.id)), rescored=tuple(sorted(self.rescored)),
            aborted_runs=tuple(aborted), collected=collected, pages=self.pages,
            seconds=time.perf_counter() - start)
        self.store.finish_run(run_id, status="partial" if report.failed else "ok", counts=report.counts(),
                              errors=[{"id": d, "error": e} for d, e in report.failed])
        return report

    def _work(self, results: Iterable[FetchResult], previous: Mapping[str, Version],
              scored_with: Mapping[str, set[str]], model: str) -> Iterator[WorkItem]:
        """The engine's work, as downloads end: changed documents, and ones scored by an older model."""
        total = len(self.entries)
        for done, result in enumerate(results, start=1):
            self.progress("fetch", done, total, result.id)
            with self.store_lock:
                item = self._after_fetch(result, previous.get(result.id), scored_with, model)
            if item is not None:
                self.queued += 1
                yield item

    def _after_fetch(self, result: FetchResult, previous: Version | None,
                     scored_with: Mapping[str, set[str]], model: str) -> WorkItem | None:
        entry = self.entries[result.id]
        if result.status == "failed":
            self.failed[result.id] = result.error or "fetch failed"
            return None
        if result.status == "changed":
            assert result.fetched is not None
            self.fetched[entry.id] = result.fetched
            return self._raw_item(entry, result.fetched)
        if result.fetched is not None and previous is not None:  # a 200 with the same bytes
            # Either validator alone is enough for the next request to be conditional (a 304).
            validators = (result.fetched.etag, result.fetched.last_modified)
            if any(validators) and validators != (previous.etag, previous.last_modified):
                self.store.update_validators(entry.id, etag=validators[0], last_modified=validators[1])
        if model in scored_with.get(entry.id, set()):
            self.unchanged.append(entry.id)
            return None
        # unchanged content, but never scored by this model: re-tag the stored blocks
        try:
            document = self.store.document(entry.id)
        except StoreError as exc:  # e.g. a stored block of an unknown kind: this document only
            self.failed[entry.id] = exc.message
            return None
        return WorkItem(doc_id=entry.id, source=entry.source, title=entry.title, document=document,
                        scope=entry.scope)

    def _raw_item(self, entry: ManifestEntry, fetched: Fetched) -> WorkItem:
        item = WorkItem(doc_id=entry.id, source=entry.source, title=entry.title, kind=fetched.kind,
                        scope=entry.scope)
        if self._remote:  # a remote worker cannot read our object store: the bytes are scattered
            return replace(item, data=self.store.objects.read(fetched.sha256))
        raw = self.store.objects.path(fetched.sha256)
        assert self.links is not None  # set by run() before any fetch
        # the extractor reads by suffix, and objects have none: a link named for the document
        # (ids are safe file names) saves each worker a temporary folder of its own
        link = self.links / f"{entry.id}.{fetched.kind}"
        try:
            link.unlink(missing_ok=True)
            os.symlink(raw, link)
        except OSError:  # pragma: no cover - file systems without symlinks: the worker copes
            return replace(item, path=str(raw))
        return replace(item, path=str(link))

    def _process(self, items: Iterable[WorkItem], previous: Mapping[str, Any],
                 old_index: Mapping[str, float], run_id: int) -> None:
        from policylens.rank.analysis import warm

        # the pipeline is loaded (once, before the workers fork) only when a first item arrives
        engine = get_engine(self.settings.engine, workers=self.settings.workers,
                            scheduler=self.settings.scheduler, timeout=self.settings.process_timeout,
                            warm=warm if self.settings.engine == "local" else None, scatter=self._remote)
        pause_after = int(os.environ.get(PAUSE_ENV, "0") or 0)
        commit = functools.partial(self._commit, previous, old_index, run_id)
        stop = threading.Event()
        # results that wait for a slow download (or a slow document) are committed all the same
        flusher = threading.Thread(target=self._commit_old, args=(commit, stop), daemon=True,
                                   name="policylens-commit")
        flusher.start()
        try:
            for done, outcome in enumerate(engine.map(run_item, items), start=1):
                doc_id, pause = outcome.item.doc_id, False
                with self.store_lock:
                    if not outcome.ok or outcome.value is None:
                        self.failed[doc_id] = outcome.error or "processing failed"
                        self.fetched.pop(doc_id, None)
                    else:
                        if not self.batch:
                            self.batch_started = time.monotonic()
                        self.batch.append((doc_id, *outcome.value))
                        pause = self.committed + len(self.batch) == pause_after
                        if len(self.batch) >= BATCH_DOCUMENTS or pause:
                            commit()
                self._check_flusher()
                if pause and self.committed == pause_after:
                    _test_pause()
                self.progress("process", done, max(done, self.queued), doc_id)
            stop.set()
            flusher.join()
            with self.store_lock:
                commit()
        finally:
            stop.set()
            engine.close()
        self._check_flusher()

    def _commit_old(self, commit: Callable[[], None], stop: threading.Event) -> None:
        """The flusher thread: commit the batch once its oldest result is ``BATCH_SECONDS`` old."""
        while not stop.wait(BATCH_SECONDS / 4):
            with self.store_lock:
                if self.batch and time.monotonic() - self.batch_started >= BATCH_SECONDS:
                    try:
                        commit()
                    except BaseException as exc:  # raised on the refresh's own thread
                        self.flush_error = exc
                        return

    def _check_flusher(self) -> None:
        if self.flush_error is not None:
            raise self.flush_error

    def _commit(self, previous: Mapping[str, Any], old_index: Mapping[str, float], run_id: int) -> None:
        """Write the batch of processed documents in one transaction, each in its own savepoint.

        The caller holds ``store_lock``.
        """
        if not self.batch:
            return
        batch, self.batch = self.batch, []
        with self.store.transaction():
            for doc_id, document, tagged, score in batch:
                try:
                    fetched = self.fetched.get(doc_id)
                    if fetched is not None:
                        self.store.record_version(doc_id, fetched, document, tagged, score, run_id=run_id)
                    else:
                        self.store.record_score(doc_id, tagged, score, run_id=run_id)
                except StoreError as exc:  # e.g. a block of an unknown kind: this document only
                    if self.store.damaged:
                        raise
                    self.failed[doc_id] = exc.message
                    continue
                if fetched is not None:
                    (self.updated if doc_id in previous else self.new).append(doc_id)
                    self.pages += document.n_pages
                else:
                    self.rescored.append(doc_id)
                    self.unchanged.append(doc_id)
                old = old_index.get(doc_id)
                if old is not None and abs(score.index - old) >= MOVE_EPSILON:
                    self.moved.append(Moved(doc_id, old, score.index))
        for doc_id, *_ in batch:
            self.fetched.pop(doc_id, None)
            if doc_id not in self.failed:
                self.committed += 1


def _test_pause() -> None:
    """Test hook (``POLICYLENS_TEST_PAUSE_AFTER=N``): stop after N committed documents.

    Lets a test kill a refresh at a known point. It only sleeps, so it cannot
    change what a run writes.
    """
    import sys

    print(f"policylens: paused for a test after a commit ({PAUSE_ENV})", file=sys.stderr, flush=True)
    time.sleep(float(os.environ.get("POLICYLENS_TEST_PAUSE_SECONDS", "60")))
