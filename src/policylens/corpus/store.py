"""The embedded corpus store: one SQLite file plus content-addressed raw files.

Tables (see ``migrations.py``): ``documents`` (what the manifests list, never
deleted: a document that leaves its manifest is marked ``removed``),
``versions`` (each distinct content of a document, with how it was fetched),
``blocks`` (its extracted text), ``sentences`` and ``scores`` (per version and
model version), ``document_facets`` (per score: each facet value's probability,
whether it is assigned, its evidence sentences) and ``runs`` (one row per refresh). Raw bytes live in
``<store>.objects/``.

Everything one document contributes is written in one transaction, so a
refresh killed at any moment leaves the store consistent.

A store is checked when it opens (``PRAGMA quick_check``, one pass over its
pages) before anything is written to it: a damaged file, or one written by a
newer policylens, is refused with a ``StoreError`` that says how to recover and
is left exactly as it was. Every SQLite error met later is a ``StoreError`` too,
and once one says the file is damaged the store writes nothing more.
"""

from __future__ import annotations

import contextlib
import functools
import json
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from policylens.corpus.manifest import Manifest, ManifestEntry
from policylens.corpus.migrations import check_known, migrate
from policylens.corpus.objects import ObjectStore
from policylens.errors import StoreError, UsageError
from policylens.extract.document import BLOCK_KINDS, Block, Document, Quality
from policylens.labels import LABELS
from policylens.nlp.types import UNKNOWN_SCOPE, Cue, Facets, TaggedDocument, TaggedSentence
from policylens.rank.types import FrameworkScore

DEFAULT_STORE = "policylens.db"
BUSY_TIMEOUT_MS = 10_000
RECOVER = ("To recover, rebuild it from its manifest into a new store "
           "('policylens corpus refresh MANIFEST --store NEW.db').")
_DAMAGE_CODES = frozenset({sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB})
_BUSY_CODES = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})

P = ParamSpec("P")
R = TypeVar("R")


def now() -> str:
    """The current UTC time as ISO 8601 (what every timestamp column holds)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True, slots=True)
class Version:
    """One stored content of a document and how it was obtained."""

    id: int
    document_id: str
    sha256: str
    fetched_at: str
    size: int
    source: str
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None
    kind: str | None = None


@dataclass(frozen=True, slots=True)
class Fetched:
    """What a fetch learned about a document's content (stored with its version)."""

    sha256: str
    size: int
    source: str
    kind: str  # pdf, html, txt or md: the suffix the extractor gets
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None


@dataclass(frozen=True, slots=True)
class Run:
    """One refresh: when, how it ended, what it counted and which documents failed."""

    id: int
    started_at: str
    ended_at: str | None
    status: str
    pid: int | None
    manifest: str | None
    model_version: str | None
    counts: Mapping[str, int] = field(default_factory=dict)
    errors: tuple[Mapping[str, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "started_at": self.started_at, "ended_at": self.ended_at,
                "status": self.status, "pid": self.pid, "manifest": self.manifest,
                "model_version": self.model_version, "counts": dict(self.counts),
                "errors": [dict(e) for e in self.errors]}


@dataclass(frozen=True, slots=True)
class StoreStatus:
    """A summary of a store for ``policylens corpus status``."""

    path: str
    documents: int
    active: int
    removed: int
    versions: int
    scored: int
    model_versions: Mapping[str, int]  # model version -> documents whose latest score used it
    runs: tuple[Run, ...]
    # family -> facet value -> active documents whose latest score assigns it
    document_facets: Mapping[str, Mapping[str, int]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "documents": self.documents, "active": self.active,
                "removed": self.removed, "versions": self.versions, "scored": self.scored,
                "model_versions": dict(self.model_versions), "runs": [r.to_dict() for r in self.runs],
                "document_facets": {k: dict(v) for k, v in self.document_facets.items()}}


def _sqlite_errors(method: Callable[Concatenate[Store, P], R]) -> Callable[Concatenate[Store, P], R]:
    """Turn the SQLite errors of a ``Store`` method into ``StoreError``\\ s (see ``Store._error``)."""

    @functools.wraps(method)
    def wrapper(store: Store, /, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(store, *args, **kwargs)
        except sqlite3.DatabaseError as exc:
            raise store._error(exc) from None

    return wrapper


def _sqlite_errors_in_batches(
        method: Callable[Concatenate[Store, P], Iterator[R]]) -> Callable[Concatenate[Store, P], Iterator[R]]:
    """``_sqlite_errors`` for a generator: its rows are read while it is iterated."""

    @functools.wraps(method)
    def wrapper(store: Store, /, *args: P.args, **kwargs: P.kwargs) -> Iterator[R]:
        try:
            yield from method(store, *args, **kwargs)
        except sqlite3.DatabaseError as exc:
            raise store._error(exc) from None

    return wrapper


def _code(exc: sqlite3.Error) -> int | None:
    """The primary SQLite result code of ``exc`` (``SQLITE_CORRUPT`` ...), if it carries one."""
    code = getattr(exc, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


class Store:
    """A corpus store at ``path`` (created and migrated on open).

    >>> import tempfile, os
    >>> with Store(os.path.join(tempfile.mkdtemp(), "s.db")) as store:
    ...     store.latest_scores()
    []
    """

    def __init__(self, path: str | Path = DEFAULT_STORE, *, create: bool = True) -> None:
        self.path = Path(path)
        if not create and not self.path.is_file():
            raise UsageError(f"no store at {self.path}: run 'policylens corpus refresh MANIFEST "
                             f"--store {self.path}' first")
        if self.path.is_dir():
            raise StoreError(f"{self.path} is a folder; give the store's file name (e.g. {DEFAULT_STORE})")
        if not self.path.parent.is_dir():
            raise StoreError(f"the folder of the store {self.path} does not exist")
        self.objects = ObjectStore(self.path.with_name(self.path.name + ".objects"))
        self.damaged = False  # set when SQLite reports the file damaged: nothing is written after
        try:
            self.db = _connect(self.path)
        except sqlite3.DatabaseError as exc:
            if _code(exc) in _DAMAGE_CODES:
                raise StoreError(f"cannot open the store {self.path}: {exc}; if it is a policylens store, "
                                 f"it is damaged and was left untouched. {RECOVER}") from None
            raise StoreError(f"cannot open the store {self.path}: {exc}") from None

    # --- plumbing -------------------------------------------------------------

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _error(self, exc: sqlite3.DatabaseError) -> StoreError:
        """The ``StoreError`` for an SQLite error met while using the store (marking damage)."""
        code = _code(exc)
        if code in _DAMAGE_CODES:
            self.damaged = True
            return StoreError(f"the store {self.path} is damaged ({exc}); nothing more is written to it. "
                              + RECOVER)
        if code in _BUSY_CODES:
            return StoreError(f"the store {self.path} is busy: another process has held its write lock "
                              f"for over {BUSY_TIMEOUT_MS // 1000} s ({exc}); try again later")
        return StoreError(f"the store {self.path} failed: {exc}")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: all of it is committed, or none of it (never on a damaged store).

        Inside another transaction (a refresh commits a batch of documents at once) it
        is a savepoint instead: a failure undoes this part alone, and the outer
        transaction decides what is committed.
        """
        if self.damaged:
            raise StoreError(f"the store {self.path} is damaged: refusing to write to it. {RECOVER}")
        if self.db.in_transaction:
            with self._savepoint() as db:
                yield db
            return
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.DatabaseError as exc:
            raise self._error(exc) from None
        try:
            yield self.db
            self.db.execute("COMMIT")
        except BaseException as exc:
            with contextlib.suppress(sqlite3.Error):  # a failed COMMIT leaves the transaction open
                self.db.execute("ROLLBACK")
            if isinstance(exc, sqlite3.DatabaseError):
                raise self._error(exc) from None
            raise

    @contextmanager
    def _savepoint(self) -> Iterator[sqlite3.Connection]:
        try:
            self.db.execute("SAVEPOINT part")
        except sqlite3.DatabaseError as exc:
            raise self._error(exc) from None
        try:
            yield self.db
            self.db.execute("RELEASE part")
        except BaseException as exc:
            with contextlib.suppress(sqlite3.Error):
                self.db.execute("ROLLBACK TO part")
                self.db.execute("RELEASE part")
            if isinstance(exc, sqlite3.DatabaseError):
                raise self._error(exc) from None
            raise

    # --- runs -----------------------------------------------------------------

    @_sqlite_errors
    def abort_stale_runs(self) -> list[int]:
        """Mark runs still ``running`` as ``aborted``; call only while holding the refresh lock."""
        with self.transaction() as db:
            ids = [r[0] for r in db.execute("SELECT id FROM runs WHERE status = 'running'")]
            db.execute("UPDATE runs SET status = 'aborted', ended_at = ? WHERE status = 'running'", (now(),))
        return ids

    @_sqlite_errors
    def begin_run(self, *, manifest: str | None, model_version: str | None, pid: int) -> int:
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT INTO runs (started_at, status, pid, manifest, model_version) "
                "VALUES (?, 'running', ?, ?, ?)", (now(), pid, manifest, model_version))
        return int(cursor.lastrowid or 0)

    @_sqlite_errors
    def finish_run(self, run_id: int, *, status: str, counts: Mapping[str, int],
                   errors: Sequence[Mapping[str, str]]) -> None:
        with self.transaction() as db:
            db.execute("UPDATE runs SET status = ?, ended_at = ?, counts = ?, errors = ? WHERE id = ?",
                       (status, now(), json.dumps(dict(counts)), json.dumps([dict(e) for e in errors]),
                        run_id))

    @_sqlite_errors
    def runs(self, limit: int = 5) -> list[Run]:
        """The most recent runs, newest first."""
        rows = self.db.execute("SELECT * FROM runs ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        return [Run(id=r["id"], started_at=r["started_at"], ended_at=r["ended_at"], status=r["status"],
                    pid=r["pid"], manifest=r["manifest"], model_version=r["model_version"],
                    counts=json.loads(r["counts"]), errors=tuple(json.loads(r["errors"])))
                for r in rows]

    # --- documents ------------------------------------------------------------

    @_sqlite_errors
    def sync_documents(self, manifest: Manifest, *, remove_missing: bool = True) -> list[str]:
        """Insert or update the manifest's documents; mark the ones it no longer lists removed.

        Returns the ids newly marked ``removed``. Only documents that came from
        this same manifest file can be removed by it.
        """
        stamp = now()
        # documents ingested without a manifest (corpus add) belong to none, so none removes them
        manifest_name = str(manifest.path.resolve()) if remove_missing else None
        with self.transaction() as db:
            for entry in manifest.documents:
                self._upsert(db, entry, manifest_name, stamp)
            if not remove_missing:
                return []
            rows = db.execute("SELECT id FROM documents WHERE status = 'active' AND manifest = ?",
                              (manifest_name,)).fetchall()
            gone = sorted(r[0] for r in rows if r[0] not in manifest.ids)
            db.executemany("UPDATE documents SET status = 'removed', removed_at = ? WHERE id = ?",
                           [(stamp, doc_id) for doc_id in gone])
        return gone

    @_sqlite_errors
    def add_document(self, entry: ManifestEntry, *, manifest: str | None = None) -> None:
        with self.transaction() as db:
            self._upsert(db, entry, manifest, now())

    @staticmethod
    def _upsert(db: sqlite3.Connection, entry: ManifestEntry, manifest: str | None, stamp: str) -> None:
        db.execute(
            """INSERT INTO documents (id, title, jurisdiction, year, doc_type, url, path, manifest,
                                      status, added_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'active', ?)
               ON CONFLICT (id) DO UPDATE SET title = excluded.title,
                   jurisdiction = excluded.jurisdiction, year = excluded.year,
                   doc_type = excluded.doc_type, url = excluded.url, path = excluded.path,
                   manifest = coalesce(excluded.manifest, documents.manifest), status = 'active',
                   removed_at = NULL""",
            (entry.id, entry.title, entry.jurisdiction, entry.year, entry.doc_type, entry.url,
             str(entry.path) if entry.path is not None else None, manifest, stamp))

    @_sqlite_errors
    def current_version(self, doc_id: str) -> Version | None:
        row = self.db.execute(
            "SELECT v.* FROM versions v JOIN documents d ON d.current_version = v.id WHERE d.id = ?",
            (doc_id,)).fetchone()
        return _version(row) if row else None

    @_sqlite_errors
    def current_versions(self) -> dict[str, Version]:
        """Every document's current version, by document id (one query for a whole refresh)."""
        rows = self.db.execute(
            "SELECT v.* FROM versions v JOIN documents d ON d.current_version = v.id").fetchall()
        return {r["document_id"]: _version(r) for r in rows}

    @_sqlite_errors
    def referenced_objects(self) -> set[str]:
        """The sha256 of every raw file some stored version references (what ``corpus gc`` keeps)."""
        return {row[0] for row in self.db.execute("SELECT DISTINCT sha256 FROM versions")}

    @_sqlite_errors
    def score_models(self) -> dict[str, set[str]]:
        """Document id -> model versions that scored its current version."""
        rows = self.db.execute(
            "SELECT d.id, s.model_version FROM documents d JOIN scores s ON s.version_id = d.current_version")
        models: dict[str, set[str]] = {}
        for doc_id, model in rows:
            models.setdefault(doc_id, set()).add(model)
        return models

    @_sqlite_errors
    def update_validators(self, doc_id: str, *, etag: str | None, last_modified: str | None) -> None:
        """Remember new ``ETag``/``Last-Modified`` for unchanged content, so the next fetch is a 304."""
        with self.transaction() as db:
            db.execute("""UPDATE versions SET etag = ?, last_modified = ?
                          WHERE id = (SELECT current_version FROM documents WHERE id = ?)""",
                       (etag, last_modified, doc_id))

    # --- writing results ------------------------------------------------------

    @_sqlite_errors
    def record_version(self, doc_id: str, fetched: Fetched, document: Document, tagged: TaggedDocument,
                       score: FrameworkScore, *, run_id: int | None = None) -> int:
        """Store a new (or re-seen) content of ``doc_id`` with its blocks, sentences and score.

        One transaction: afterwards the document's current version is this one,
        fully tagged and scored, or (if anything failed) nothing changed. A block
        of a kind outside ``BLOCK_KINDS`` is refused before anything is written.
        """
        for position, block in enumerate(document.blocks):
            _check_block_kind(block.kind, f"block {position} of {doc_id!r}")
        with self.transaction() as db:
            row = db.execute("SELECT id FROM versions WHERE document_id = ? AND sha256 = ?",
                             (doc_id, fetched.sha256)).fetchone()
            if row is not None:  # the content went back to an earlier version: reuse it
                version_id = int(row[0])
                db.execute("UPDATE versions SET fetched_at = ?, etag = ?, last_modified = ?, run_id = ? "
                           "WHERE id = ?", (now(), fetched.etag, fetched.last_modified, run_id, version_id))
            else:
                cursor = db.execute(
                    """INSERT INTO versions (document_id, sha256, fetched_at, etag, last_modified, size,
                           source, content_type, kind, title, n_pages, quality, metadata, run_id)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                    (doc_id, fetched.sha256, now(), fetched.etag, fetched.last_modified, fetched.size,
                     fetched.source, fetched.content_type, fetched.kind, document.title,
                     document.n_pages, json.dumps(document.quality.to_dict()),
                     json.dumps(dict(document.metadata)), run_id))
                version_id = int(cursor.lastrowid or 0)
                db.executemany(
                    "INSERT INTO blocks (version_id, position, page, kind, section, text) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    [(version_id, i, b.page, b.kind, b.section, b.text)
                     for i, b in enumerate(document.blocks)])
            self._insert_tagging(db, version_id, doc_id, tagged, score, run_id)
            db.execute("UPDATE documents SET current_version = ? WHERE id = ?", (version_id, doc_id))
        return version_id

    @_sqlite_errors
    def record_score(self, doc_id: str, tagged: TaggedDocument, score: FrameworkScore, *,
                     run_id: int | None = None) -> None:
        """Store a re-tagging of the current version (a new model version), in one transaction."""
        with self.transaction() as db:
            row = db.execute("SELECT current_version FROM documents WHERE id = ?", (doc_id,)).fetchone()
            if row is None or row[0] is None:
                raise StoreError(f"document {doc_id!r} has no stored version to re-score")
            self._insert_tagging(db, int(row[0]), doc_id, tagged, score, run_id)

    @staticmethod
    def _insert_tagging(db: sqlite3.Connection, version_id: int, doc_id: str, tagged: TaggedDocument,
                        score: FrameworkScore, run_id: int | None) -> None:
        model = tagged.model_version
        db.execute("DELETE FROM sentences WHERE version_id = ? AND model_version = ?", (version_id, model))
        db.executemany(
            """INSERT INTO sentences (version_id, model_version, sentence_id, text, label, p_centralized,
                   p_sector_specific, p_neutral, cues, facets, page, section, role, role_probs, content)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [(version_id, model, s.sentence_id, s.text, s.label, float(s.probs["centralized"]),
              float(s.probs["sector_specific"]), float(s.probs["neutral"]),
              json.dumps([_cue_dict(c) for c in s.cues]), json.dumps(s.facets.to_dict()), s.page, s.section,
              s.role, json.dumps(dict(s.role_probs)),
              json.dumps(dict(s.content)) if s.content is not None else None)
             for s in tagged.sentences])
        db.execute(
            """INSERT INTO scores (version_id, document_id, model_version, method, "index", ci_low, ci_high,
                   n_sentences, score, created_at, run_id, scope, scope_overridden)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (version_id, model_version, method) DO UPDATE SET "index" = excluded."index",
                   ci_low = excluded.ci_low, ci_high = excluded.ci_high,
                   n_sentences = excluded.n_sentences, score = excluded.score,
                   created_at = excluded.created_at, run_id = excluded.run_id, scope = excluded.scope,
                   scope_overridden = excluded.scope_overridden""",
            (version_id, doc_id, model, score.method, float(score.index), float(score.ci_low),
             float(score.ci_high), score.n_sentences, json.dumps(score.to_dict()), now(), run_id,
             tagged.scope.label, int(tagged.scope.overridden)))
        score_id = db.execute(
            "SELECT id FROM scores WHERE version_id = ? AND model_version = ? AND method = ?",
            (version_id, model, score.method)).fetchone()[0]
        _insert_document_facets(db, int(score_id), score)

    # --- reading results ------------------------------------------------------

    @_sqlite_errors
    def latest_scores(self) -> list[FrameworkScore]:
        """The newest score of each active document's current version, by document id.

        ``extra`` carries the manifest metadata: ``id``, ``jurisdiction``, ``year``,
        ``doc_type``, ``sha256``.
        """
        rows = self.db.execute(
            """SELECT d.id, d.jurisdiction, d.year, d.doc_type, v.sha256, s.score
               FROM documents d JOIN versions v ON v.id = d.current_version
               JOIN scores s ON s.id = (SELECT max(id) FROM scores WHERE version_id = d.current_version)
               WHERE d.status = 'active' ORDER BY d.id""").fetchall()
        scores = []
        for row in rows:
            score = FrameworkScore.from_dict(json.loads(row["score"]))
            extra = {"id": row["id"], "jurisdiction": row["jurisdiction"], "year": row["year"],
                     "doc_type": row["doc_type"], "sha256": row["sha256"]}
            scores.append(replace(score, extra=extra))
        return scores

    @_sqlite_errors
    def latest_index(self) -> dict[str, float]:
        """Document id -> index of its newest score (what a refresh compares against)."""
        rows = self.db.execute(
            """SELECT d.id, s."index" FROM documents d
               JOIN scores s ON s.id = (SELECT max(id) FROM scores WHERE document_id = d.id)""")
        return {doc_id: float(index) for doc_id, index in rows}

    @_sqlite_errors
    def document(self, doc_id: str) -> Document:
        """The extracted ``Document`` of ``doc_id``'s current version (rebuilt from its blocks)."""
        version = self._require_version(doc_id)
        row = self.db.execute("SELECT title, n_pages, quality, metadata FROM versions WHERE id = ?",
                              (version.id,)).fetchone()
        rows = self.db.execute("SELECT * FROM blocks WHERE version_id = ? ORDER BY position", (version.id,))
        blocks = tuple(
            Block(page=b["page"], text=b["text"], section=b["section"],
                  kind=_check_block_kind(b["kind"], f"stored block {b['position']} of {doc_id!r} "
                                                    f"(version {version.id})"))
            for b in rows)
        title = self.db.execute("SELECT title FROM documents WHERE id = ?", (doc_id,)).fetchone()[0]
        return Document(source=version.source, sha256=version.sha256, title=title or row["title"] or "",
                        n_pages=row["n_pages"] or 0, blocks=blocks,
                        metadata=json.loads(row["metadata"] or "{}"),
                        quality=Quality.from_dict(json.loads(row["quality"] or "{}")))

    @_sqlite_errors
    def tagged(self, doc_id: str, *, model_version: str | None = None) -> TaggedDocument:
        """The tagged sentences of ``doc_id``'s current version (newest model unless one is named)."""
        version = self._require_version(doc_id)
        if model_version is None:
            row = self.db.execute("SELECT model_version FROM scores WHERE version_id = ? "
                                  "ORDER BY id DESC LIMIT 1", (version.id,)).fetchone()
            if row is None:
                raise StoreError(f"document {doc_id!r} has not been tagged yet: "
                                 "run 'policylens corpus refresh'")
            model_version = str(row[0])
        rows = self.db.execute("SELECT * FROM sentences WHERE version_id = ? AND model_version = ? "
                               "ORDER BY sentence_id", (version.id, model_version)).fetchall()
        doc = self.db.execute("SELECT d.title, v.n_pages FROM documents d JOIN versions v "
                              "ON v.id = d.current_version WHERE d.id = ?", (doc_id,)).fetchone()
        sentences = tuple(
            TaggedSentence(doc=version.source, sentence_id=r["sentence_id"], text=r["text"], label=r["label"],
                           probs={label: float(r[f"p_{label}"]) for label in LABELS},
                           cues=tuple(Cue.from_dict(c) for c in json.loads(r["cues"])),
                           facets=Facets.from_dict(json.loads(r["facets"])), page=r["page"],
                           section=r["section"], role=r["role"],
                           role_probs=json.loads(r["role_probs"]) or {"architecture": 0.0, "provision": 0.0,
                                                                       "other": 1.0},
                           content=json.loads(r["content"]) if r["content"] else None)
            for r in rows)
        score_row = self.db.execute("SELECT score FROM scores WHERE version_id = ? AND model_version = ? "
                                    "ORDER BY id DESC LIMIT 1", (version.id, model_version)).fetchone()
        scope = FrameworkScore.from_dict(json.loads(score_row["score"])).scope if score_row else UNKNOWN_SCOPE
        return TaggedDocument(source=version.source, title=doc["title"], sha256=version.sha256,
                              n_pages=doc["n_pages"] or 0, sentences=sentences, model_version=model_version,
                              scope=scope)

    def _require_version(self, doc_id: str) -> Version:
        version = self.current_version(doc_id)
        if version is None:
            known = self.db.execute("SELECT 1 FROM documents WHERE id = ?", (doc_id,)).fetchone()
            if known is None:
                raise StoreError(f"no document {doc_id!r} in the store {self.path}")
            raise StoreError(f"document {doc_id!r} has no stored content yet: "
                             "run 'policylens corpus refresh'")
        return version

    @_sqlite_errors
    def status(self, *, runs: int = 5) -> StoreStatus:
        one = self.db.execute
        latest = one("""SELECT s.model_version, count(*) FROM documents d
                        JOIN scores s
                          ON s.id = (SELECT max(id) FROM scores WHERE version_id = d.current_version)
                        WHERE d.status = 'active' GROUP BY s.model_version""").fetchall()
        return StoreStatus(
            path=str(self.path),
            documents=one("SELECT count(*) FROM documents").fetchone()[0],
            active=one("SELECT count(*) FROM documents WHERE status = 'active'").fetchone()[0],
            removed=one("SELECT count(*) FROM documents WHERE status = 'removed'").fetchone()[0],
            versions=one("SELECT count(*) FROM versions").fetchone()[0],
            scored=sum(n for _, n in latest),
            model_versions={m: n for m, n in latest},
            runs=tuple(self.runs(runs)),
            document_facets=self.facet_counts(),
        )

    _LATEST_FACETS = """
        SELECT d.id AS document_id, f.family, f.label, f.prob, f.assigned
        FROM documents d
        JOIN scores s ON s.id = (SELECT max(id) FROM scores WHERE version_id = d.current_version)
        JOIN document_facets f ON f.score_id = s.id
        WHERE d.status = 'active'"""

    def facet_counts(self) -> dict[str, dict[str, int]]:
        """Family -> facet value -> how many active documents' newest scores assign it."""
        rows = self.db.execute(f"SELECT family, label, count(*) FROM ({self._LATEST_FACETS}) "
                               "WHERE assigned = 1 GROUP BY family, label "
                               "ORDER BY family, count(*) DESC, label")
        counts: dict[str, dict[str, int]] = {}
        for family, label, n in rows:
            counts.setdefault(family, {})[label] = n
        return counts

    def documents_with_facet(self, family: str, label: str) -> list[tuple[str, float]]:
        """``(document id, probability)`` of the active documents whose newest score assigns
        ``label`` of ``family``, most probable first."""
        rows = self.db.execute(f"SELECT document_id, prob FROM ({self._LATEST_FACETS}) "
                               "WHERE assigned = 1 AND family = ? AND label = ? "
                               "ORDER BY prob DESC, document_id", (family, label))
        return [(doc_id, float(prob)) for doc_id, prob in rows]

    @_sqlite_errors_in_batches
    def sentence_rows(self, *, batch: int = 5000) -> Iterator[list[dict[str, Any]]]:
        """Sentences of every active document's current version under its newest model, in batches."""
        query = """
            SELECT d.id AS document_id, d.title, d.jurisdiction, d.year, d.doc_type, v.sha256,
                   t.model_version, t.sentence_id, t.text, t.label, t.p_centralized, t.p_sector_specific,
                   t.p_neutral, t.cues, t.facets, t.page, t.section, t.role, t.role_probs,
                   s.scope, s.scope_overridden
            FROM documents d JOIN versions v ON v.id = d.current_version
            JOIN scores s ON s.id = (SELECT max(id) FROM scores WHERE version_id = d.current_version)
            JOIN sentences t ON t.version_id = v.id AND t.model_version = s.model_version
            WHERE d.status = 'active' ORDER BY d.id, t.sentence_id"""
        yield from _batches(self.db.execute(query), batch)

    @_sqlite_errors_in_batches
    def score_rows(self, *, batch: int = 5000) -> Iterator[list[dict[str, Any]]]:
        """The newest score of every active document, with its metadata, in batches."""
        query = """
            SELECT d.id AS document_id, d.title, d.jurisdiction, d.year, d.doc_type, v.sha256,
                   v.fetched_at, s.model_version, s.method, s."index" AS "index", s.ci_low, s.ci_high,
                   s.n_sentences, s.score, s.scope, s.scope_overridden
            FROM documents d JOIN versions v ON v.id = d.current_version
            JOIN scores s ON s.id = (SELECT max(id) FROM scores WHERE version_id = d.current_version)
            WHERE d.status = 'active' ORDER BY d.id"""
        for rows in _batches(self.db.execute(query), batch):
            for row in rows:
                score = json.loads(row.pop("score"))
                row["counts"] = json.dumps(score.get("counts", {}))
                row["facets"] = json.dumps(score.get("facets", {}))
                row["scope_probs"] = json.dumps(score.get("scope", {}).get("probs", {}))
                found = score.get("document_facets", {})
                row["document_sectors"] = json.dumps(found.get("sector", {}).get("labels", []))
                row["document_instruments"] = json.dumps(found.get("instrument", {}).get("labels", []))
                row["document_facets"] = json.dumps(found, ensure_ascii=False)
            yield rows


def _check_integrity(db: sqlite3.Connection, path: Path) -> None:
    """Refuse a damaged store before anything is written to it (``PRAGMA quick_check``).

    ``quick_check`` reads every page once (it skips only the cross-check of indexes
    against their tables), which finds a torn or overwritten page, so a damaged
    store is refused here rather than crashing a query half-way through a command.
    """
    problems = [row[0] for row in db.execute("PRAGMA quick_check(3)")]
    if problems != ["ok"]:
        detail = "; ".join(" ".join(p.split()) for p in problems)
        raise StoreError(f"the store {path} is damaged (PRAGMA quick_check: {detail}); "
                         f"it was left untouched. {RECOVER}")


def _insert_document_facets(db: sqlite3.Connection, score_id: int, score: FrameworkScore) -> None:
    """Replace a score's document facet rows: one per facet value, assigned or not."""
    db.execute("DELETE FROM document_facets WHERE score_id = ?", (score_id,))
    rows = []
    for family, found in score.document_facets.items():
        assigned = set(found.labels)
        for label, prob in found.probs.items():
            evidence = [e.sentence_id for e in found.evidence.get(label, ())]
            rows.append((score_id, family, label, float(prob), int(label in assigned),
                         int(found.mentions.get(label, 0)), json.dumps(evidence), found.model_version))
    db.executemany("INSERT INTO document_facets (score_id, family, label, prob, assigned, mentions, "
                   "evidence, model_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)


def _connect(path: Path) -> sqlite3.Connection:
    """Open, check and migrate the SQLite file; a failure closes it again (no open handle left behind)."""
    # autocommit: transactions are explicit (BEGIN IMMEDIATE ... COMMIT)
    # check_same_thread off: pyarrow pulls export batches from its own thread (one at a time)
    db = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
    try:
        db.row_factory = sqlite3.Row
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        # both checks only read: a refused store is left byte for byte as it was
        _check_integrity(db, path)
        check_known(db, path)
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("PRAGMA synchronous = NORMAL")
        migrate(db)
    except BaseException:
        db.close()
        raise
    return db


def _batches(cursor: sqlite3.Cursor, size: int) -> Iterator[list[dict[str, Any]]]:
    while rows := cursor.fetchmany(size):
        yield [dict(row) for row in rows]


def _version(row: sqlite3.Row) -> Version:
    return Version(id=row["id"], document_id=row["document_id"], sha256=row["sha256"],
                   fetched_at=row["fetched_at"], size=row["size"], source=row["source"], etag=row["etag"],
                   last_modified=row["last_modified"], content_type=row["content_type"], kind=row["kind"])


def _cue_dict(cue: Cue) -> dict[str, Any]:
    return {**cue.to_dict(), "start": cue.start, "end": cue.end}


def _check_block_kind(kind: Any, where: str) -> Any:
    """``kind`` if it is one of ``BLOCK_KINDS``, else a ``StoreError`` naming ``where``."""
    if kind not in BLOCK_KINDS:
        raise StoreError(f"{where} has an unknown block kind {kind!r} (known: {', '.join(BLOCK_KINDS)})")
    return kind
