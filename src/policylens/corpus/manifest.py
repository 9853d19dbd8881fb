"""Corpus manifests: TOML files that list the documents of a corpus.

A manifest has an optional ``[corpus]`` table and one ``[[document]]`` table per
document::

    [corpus]
    name = "ai-governance"
    description = "National and international AI-governance frameworks"

    [[document]]
    id = "eu-ai-act"
    title = "Regulation (EU) 2024/1689 (Artificial Intelligence Act)"
    jurisdiction = "EU"
    year = 2024
    doc_type = "regulation"
    url = "https://eur-lex.europa.eu/eli/reg/2024/1689/oj/eng"

Each document names either a ``url`` (http or https) or a ``path`` relative to
the manifest's folder, and optionally the ``sha256`` its content must have.
Validation errors name the line of the offending entry, the field and the reason.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from policylens.errors import ManifestError
from policylens.labels import SCOPES

ID_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9._-]{0,126}[a-z0-9])?$")
SHA256_PATTERN = re.compile(r"^[0-9a-f]{64}$")
REQUIRED_FIELDS = ("id", "title", "jurisdiction", "year", "doc_type")
OPTIONAL_FIELDS = ("url", "path", "sha256", "scope")
CORPUS_FIELDS = ("name", "description")
TOP_LEVEL = ("corpus", "document")
_HEADER = re.compile(r"^\s*\[\[\s*document\s*\]\]\s*(?:#.*)?$")


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    """One document of a corpus: where to get it and what it is."""

    id: str
    title: str
    jurisdiction: str
    year: int | None  # None only for documents ingested without a manifest
    doc_type: str
    url: str | None = None
    path: Path | None = None  # resolved, inside the manifest's folder
    sha256: str | None = None
    line: int = 0  # of its ``[[document]]`` header in the manifest
    scope: str | None = None  # instrument scope set by the manifest (overrides the scope model)

    @property
    def source(self) -> str:
        """The URL, or the local path, the document is read from."""
        return self.url if self.url is not None else str(self.path)

    @property
    def suffix(self) -> str:
        """The file suffix its location suggests (``.pdf``, ``.html``...), or ``""``."""
        where = urlsplit(self.url).path if self.url is not None else str(self.path)
        return Path(where).suffix.lower()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "title": self.title, "jurisdiction": self.jurisdiction,
            "year": self.year, "doc_type": self.doc_type, "url": self.url,
            "path": str(self.path) if self.path is not None else None, "sha256": self.sha256,
            "scope": self.scope,
        }


@dataclass(frozen=True, slots=True)
class Manifest:
    """A parsed, validated manifest."""

    path: Path
    name: str
    description: str = ""
    documents: tuple[ManifestEntry, ...] = ()
    ids: frozenset[str] = field(default=frozenset())

    def __len__(self) -> int:
        return len(self.documents)


def load_manifest(path: str | Path) -> Manifest:
    """Read and validate a manifest file; raise ``ManifestError`` on the first problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ManifestError("no such manifest file", path=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError(f"cannot read the manifest: {exc}", path=str(path)) from None
    return parse_manifest(text, path)


def parse_manifest(text: str, path: Path) -> Manifest:
    """Validate the manifest ``text`` read from ``path`` (used to resolve relative paths)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(f"not valid TOML: {exc}", path=str(path)) from None
    for key in data:
        if key not in TOP_LEVEL:
            raise ManifestError(f"unknown top-level key {key!r} (expected [corpus] and [[document]])",
                                path=str(path))
    corpus = data.get("corpus", {})
    if not isinstance(corpus, Mapping):
        raise ManifestError("[corpus] must be a table", path=str(path))
    for key, value in corpus.items():
        if key not in CORPUS_FIELDS:
            raise ManifestError(f"[corpus]: unknown field {key!r} (allowed: {', '.join(CORPUS_FIELDS)})",
                                path=str(path))
        if not isinstance(value, str):
            raise ManifestError(f"[corpus]: field {key!r} must be a string", path=str(path))
    raw_documents = data.get("document", [])
    if not isinstance(raw_documents, list):
        raise ManifestError("'document' must be an array of tables: use [[document]]", path=str(path))
    lines = _header_lines(text)
    folder = path.resolve().parent
    entries: list[ManifestEntry] = []
    seen: dict[str, int] = {}
    for position, raw in enumerate(raw_documents):
        line = lines[position] if position < len(lines) else 0
        entry = _entry(raw, line=line, folder=folder, where=f"{path}:{line}")
        if entry.id in seen:
            raise ManifestError(f"field 'id': duplicate id {entry.id!r} (first at line {seen[entry.id]})",
                                path=f"{path}:{line}")
        seen[entry.id] = line
        entries.append(entry)
    return Manifest(path=path, name=str(corpus.get("name") or path.stem),
                    description=str(corpus.get("description", "")), documents=tuple(entries),
                    ids=frozenset(seen))


def _header_lines(text: str) -> list[int]:
    """1-based line numbers of each ``[[document]]`` header, in order."""
    return [number for number, line in enumerate(text.splitlines(), start=1) if _HEADER.match(line)]


def _entry(raw: Any, *, line: int, folder: Path, where: str) -> ManifestEntry:
    if not isinstance(raw, Mapping):
        raise ManifestError("each [[document]] must be a table", path=where)
    for key in raw:
        if key not in REQUIRED_FIELDS + OPTIONAL_FIELDS:
            allowed = ", ".join(REQUIRED_FIELDS + OPTIONAL_FIELDS)
            raise ManifestError(f"field {key!r}: unknown field (allowed: {allowed})", path=where)
    for key in REQUIRED_FIELDS:
        if key not in raw:
            raise ManifestError(f"field {key!r}: missing", path=where)
    for key in ("id", "title", "jurisdiction", "doc_type", "url", "path", "sha256", "scope"):
        if key in raw and (not isinstance(raw[key], str) or not raw[key].strip()):
            raise ManifestError(f"field {key!r}: must be a non-empty string", path=where)
    doc_id = raw["id"]
    if not ID_PATTERN.match(doc_id):
        raise ManifestError(
            f"field 'id': {doc_id!r} is not a safe slug (lowercase letters, digits, '.', '_', '-'; "
            "starting and ending with a letter or digit)", path=where)
    year = raw["year"]
    if isinstance(year, bool) or not isinstance(year, int) or not 1900 <= year <= 2100:
        raise ManifestError(f"field 'year': {year!r} is not a year between 1900 and 2100", path=where)
    has_url, has_path = "url" in raw, "path" in raw
    if has_url == has_path:
        raise ManifestError("field 'url'/'path': give exactly one of them", path=where)
    sha = raw.get("sha256")
    if sha is not None and not SHA256_PATTERN.match(sha.lower()):
        raise ManifestError("field 'sha256': must be 64 hexadecimal digits", path=where)
    scope = raw.get("scope")
    if scope is not None and scope not in SCOPES:
        raise ManifestError(f"field 'scope': {scope!r} is not one of {', '.join(SCOPES)}", path=where)
    return ManifestEntry(
        id=doc_id, title=raw["title"].strip(), jurisdiction=raw["jurisdiction"].strip(), year=year,
        doc_type=raw["doc_type"].strip(),
        url=_check_url(raw["url"], where) if has_url else None,
        path=_check_path(raw["path"], folder, where) if has_path else None,
        sha256=sha.lower() if sha else None, line=line, scope=scope,
    )


def _check_url(url: str, where: str) -> str:
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError on a malformed port
    except ValueError as exc:
        raise ManifestError(f"field 'url': malformed URL {url!r} ({exc})", path=where) from None
    del port
    if parts.scheme not in ("http", "https"):
        raise ManifestError(f"field 'url': only http and https URLs are allowed, not {url!r}", path=where)
    if not parts.hostname:
        raise ManifestError(f"field 'url': {url!r} has no host", path=where)
    if parts.username is not None or parts.password is not None:
        # credentials in a manifest end up in logs, the store and version control
        raise ManifestError("field 'url': URLs must not carry credentials (user:password@)", path=where)
    if any(c.isspace() for c in url):
        raise ManifestError(f"field 'url': {url!r} contains whitespace", path=where)
    return url


def _check_path(value: str, folder: Path, where: str) -> Path:
    raw = Path(value)
    if raw.is_absolute():
        raise ManifestError(f"field 'path': {value!r} is absolute; give a path relative to the manifest",
                            path=where)
    if ".." in raw.parts:
        raise ManifestError(f"field 'path': {value!r} leaves the manifest's folder ('..')", path=where)
    resolved = (folder / raw).resolve()
    if not resolved.is_relative_to(folder):
        # only a symlink can get here, since '..' and absolute paths are refused above
        raise ManifestError(f"field 'path': {value!r} is a symlink that leads out of the manifest's folder",
                            path=where)
    return resolved
