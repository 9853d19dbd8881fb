"""Numbered schema migrations of the corpus store.

Each migration is a list of SQL statements applied in one transaction and
recorded by name in the ``migrations`` table, so a store created by an older
policylens is brought up to date when it is opened, and a half-applied
migration never exists. Never edit a released migration: add a new one.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from policylens.errors import StoreError

M001_INITIAL = [
    """
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        started_at TEXT NOT NULL,
        ended_at TEXT,
        status TEXT NOT NULL CHECK (status IN ('running', 'ok', 'partial', 'failed', 'aborted')),
        pid INTEGER,
        manifest TEXT,
        model_version TEXT,
        counts TEXT NOT NULL DEFAULT '{}',
        errors TEXT NOT NULL DEFAULT '[]'
    )
    """,
    """
    CREATE TABLE documents (
        id TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        jurisdiction TEXT,
        year INTEGER,
        doc_type TEXT,
        url TEXT,
        path TEXT,
        manifest TEXT,
        status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'removed')),
        added_at TEXT NOT NULL,
        removed_at TEXT,
        current_version INTEGER
    )
    """,
    """
    CREATE TABLE versions (
        id INTEGER PRIMARY KEY,
        document_id TEXT NOT NULL REFERENCES documents(id),
        sha256 TEXT NOT NULL,
        fetched_at TEXT NOT NULL,
        etag TEXT,
        last_modified TEXT,
        size INTEGER NOT NULL,
        source TEXT NOT NULL,
        content_type TEXT,
        kind TEXT,
        title TEXT,
        n_pages INTEGER,
        quality TEXT,
        metadata TEXT,
        run_id INTEGER REFERENCES runs(id),
        UNIQUE (document_id, sha256)
    )
    """,
    """
    CREATE TABLE blocks (
        version_id INTEGER NOT NULL REFERENCES versions(id),
        position INTEGER NOT NULL,
        page INTEGER,
        kind TEXT NOT NULL,
        section TEXT,
        text TEXT NOT NULL,
        PRIMARY KEY (version_id, position)
    )
    """,
    """
    CREATE TABLE sentences (
        version_id INTEGER NOT NULL REFERENCES versions(id),
        model_version TEXT NOT NULL,
        sentence_id INTEGER NOT NULL,
        text TEXT NOT NULL,
        label TEXT NOT NULL,
        p_centralized REAL NOT NULL,
        p_sector_specific REAL NOT NULL,
        p_neutral REAL NOT NULL,
        cues TEXT NOT NULL DEFAULT '[]',
        facets TEXT NOT NULL DEFAULT '{}',
        page INTEGER,
        section TEXT,
        PRIMARY KEY (version_id, model_version, sentence_id)
    )
    """,
    """
    CREATE TABLE scores (
        id INTEGER PRIMARY KEY,
        version_id INTEGER NOT NULL REFERENCES versions(id),
        document_id TEXT NOT NULL REFERENCES documents(id),
        model_version TEXT NOT NULL,
        method TEXT NOT NULL,
        "index" REAL NOT NULL,
        ci_low REAL NOT NULL,
        ci_high REAL NOT NULL,
        n_sentences INTEGER NOT NULL,
        score TEXT NOT NULL,
        created_at TEXT NOT NULL,
        run_id INTEGER REFERENCES runs(id),
        UNIQUE (version_id, model_version, method)
    )
    """,
]

M002_INDEXES = [
    "CREATE INDEX versions_document ON versions (document_id)",
    "CREATE INDEX scores_document ON scores (document_id, created_at)",
    "CREATE INDEX sentences_label ON sentences (label)",
    "CREATE INDEX runs_status ON runs (status)",
]

# Codebook v2.0: each sentence's role (and the role and content probabilities the label was
# composed from), each score's document scope. Rows written before keep their results: a
# sentence tagged by a v1 model reads as role 'other' with no composition to redo.
M003_SCOPE_ROLE = [
    "ALTER TABLE sentences ADD COLUMN role TEXT NOT NULL DEFAULT 'other'",
    "ALTER TABLE sentences ADD COLUMN role_probs TEXT NOT NULL DEFAULT '{}'",
    "ALTER TABLE sentences ADD COLUMN content TEXT",
    "ALTER TABLE scores ADD COLUMN scope TEXT",
    "ALTER TABLE scores ADD COLUMN scope_overridden INTEGER NOT NULL DEFAULT 0",
    "CREATE INDEX sentences_role ON sentences (role)",
]

# Document facets (sector, instrument, AGORA's taxonomy): one row per score and facet value, so
# a query can find the documents that govern a sector. The score's JSON holds the same decision
# with its evidence sentences; scores written before have no rows and read back without facets.
M004_DOCUMENT_FACETS = [
    """
    CREATE TABLE document_facets (
        score_id INTEGER NOT NULL REFERENCES scores(id) ON DELETE CASCADE,
        family TEXT NOT NULL,
        label TEXT NOT NULL,
        prob REAL NOT NULL,
        assigned INTEGER NOT NULL CHECK (assigned IN (0, 1)),
        mentions INTEGER NOT NULL DEFAULT 0,
        evidence TEXT NOT NULL DEFAULT '[]',
        model_version TEXT NOT NULL,
        PRIMARY KEY (score_id, family, label)
    )
    """,
    "CREATE INDEX document_facets_label ON document_facets (family, label, assigned)",
]

# (name, statements), applied in this order; the name is what the store records.
MIGRATIONS: list[tuple[str, list[str]]] = [
    ("m001_initial", M001_INITIAL),
    ("m002_indexes", M002_INDEXES),
    ("m003_scope_role", M003_SCOPE_ROLE),
    ("m004_document_facets", M004_DOCUMENT_FACETS),
]


def applied(db: sqlite3.Connection) -> list[str]:
    """Names of the migrations already applied to ``db``, in order."""
    db.execute("CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    return [row[0] for row in db.execute("SELECT name FROM migrations ORDER BY rowid")]


def check_known(db: sqlite3.Connection, path: object = None) -> None:
    """Refuse a store written by a newer policylens (a migration this version does not know).

    Only reads: a refused store is left as it is.
    """
    if not db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'migrations'").fetchone():
        return
    known = {name for name, _ in MIGRATIONS}
    unknown = [row[0] for row in db.execute("SELECT name FROM migrations ORDER BY rowid")
               if row[0] not in known]
    if unknown:
        store = f"the store {path}" if path is not None else "the store"
        raise StoreError(f"{store} was written by a newer policylens (migrations {', '.join(unknown)}) "
                         "and was left untouched; upgrade policylens to open it, or rebuild it from its "
                         "manifest into a new store with this version "
                         "('policylens corpus refresh MANIFEST --store NEW.db')")


def migrate(db: sqlite3.Connection, *, upto: int | None = None) -> list[str]:
    """Apply the pending migrations (the first ``upto`` only, for tests); return their names.

    ``db`` must be in autocommit mode (``isolation_level=None``) so that each
    migration's ``BEGIN``/``COMMIT`` is ours.
    """
    check_known(db)
    done = applied(db)
    new: list[str] = []
    for name, statements in MIGRATIONS[:upto]:
        if name in done:
            continue
        db.execute("BEGIN IMMEDIATE")
        try:
            # checked again inside the write lock: another process may have just migrated
            if db.execute("SELECT 1 FROM migrations WHERE name = ?", (name,)).fetchone():
                db.execute("COMMIT")
                continue
            for statement in statements:
                db.execute(statement)
            db.execute("INSERT INTO migrations (name, applied_at) VALUES (?, ?)",
                       (name, datetime.now(UTC).isoformat(timespec="seconds")))
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        new.append(name)
    return new
