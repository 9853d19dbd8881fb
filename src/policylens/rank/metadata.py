"""A researcher's metadata table (CSV, TSV, JSONL or Parquet) joined to ranked documents.

Each row is keyed by the value of one column (``--key``); a document joins the row
whose key equals the document's id (its file stem, or its manifest id). Keys are
compared as text with surrounding spaces removed, and whole-number floats lose their
``.0`` (a spreadsheet's ``12.0`` is document ``12``). Empty cells become ``None``.
Nothing is dropped silently: documents without a row and rows without a document
are both listed in the ``MetadataJoin``.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from policylens.errors import DataError, UsageError

FORMATS = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl",
           ".parquet": "parquet", ".pq": "parquet"}
MAX_BYTES = 512 * 1024 * 1024  # a metadata table, not a data lake: refuse a mistaken multi-GB file


@dataclass(frozen=True, slots=True)
class MetadataTable:
    """Rows of a metadata file keyed by ``key``; ``duplicates`` lists keys that occurred again
    (the first row of each wins)."""

    source: str
    key: str
    columns: tuple[str, ...]
    rows: Mapping[str, Mapping[str, Any]]
    duplicates: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.rows)


@dataclass(frozen=True, slots=True)
class MetadataJoin:
    """What joined: each document id's row, and what did not find a partner."""

    matched: Mapping[str, Mapping[str, Any]]  # document id -> its row
    documents_without_row: tuple[str, ...]
    rows_without_document: tuple[str, ...]
    duplicates: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"matched": len(self.matched),
                "documents_without_row": list(self.documents_without_row),
                "rows_without_document": list(self.rows_without_document),
                "duplicate_keys": list(self.duplicates)}


def normalise_key(value: Any) -> str | None:
    """The text a key is compared by (``None`` for an empty cell).

    >>> normalise_key(" 12 "), normalise_key(12.0), normalise_key(7), normalise_key(""), normalise_key(1.5)
    ('12', '12', '7', None, '1.5')
    """
    if value is None:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value.is_integer():
            return str(int(value))
    text = str(value).strip()
    return text or None


def read_metadata(path: str | Path, key: str) -> MetadataTable:
    """Read ``path`` (by its suffix: .csv, .tsv, .jsonl, .parquet) keyed by column ``key``.

    A missing file, an unknown suffix, a missing key column or a malformed line is a
    ``DataError`` (exit code 2) naming the file and, where there is one, the line.
    """
    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise UsageError(f"metadata must be .csv, .tsv, .jsonl or .parquet, not {path.name!r}")
    if not path.is_file():
        raise DataError("no such metadata file", path=str(path))
    if path.stat().st_size > MAX_BYTES:
        raise DataError(f"metadata file larger than {MAX_BYTES // 2**20} MB", path=str(path))
    if fmt == "parquet":
        columns, records = _read_parquet(path)
    elif fmt == "jsonl":
        columns, records = _read_jsonl(path)
    else:
        columns, records = _read_delimited(path, "\t" if fmt == "tsv" else ",")
    if key not in columns:
        shown = ", ".join(repr(c) for c in columns[:20]) + (" …" if len(columns) > 20 else "")
        raise DataError(f"no column {key!r} to join on (columns: {shown})", path=str(path))
    rows: dict[str, dict[str, Any]] = {}
    duplicates: list[str] = []
    for record in records:
        value = normalise_key(record.get(key))
        if value is None:
            continue
        if value in rows:
            duplicates.append(value)
            continue
        rows[value] = {c: _clean(record.get(c)) for c in columns}
    return MetadataTable(source=str(path), key=key, columns=tuple(columns), rows=rows,
                         duplicates=tuple(dict.fromkeys(duplicates)))


def join_metadata(document_ids: Iterable[str], table: MetadataTable) -> MetadataJoin:
    """Each document id's row; ids without a row and rows without a document, in their order."""
    ids = list(document_ids)
    matched: dict[str, Mapping[str, Any]] = {}
    for doc_id in ids:
        key = normalise_key(doc_id)
        if key is not None and key in table.rows:
            matched[doc_id] = table.rows[key]
    used = {normalise_key(doc_id) for doc_id in matched}
    return MetadataJoin(matched=matched,
                        documents_without_row=tuple(d for d in ids if d not in matched),
                        rows_without_document=tuple(k for k in table.rows if k not in used),
                        duplicates=table.duplicates)


def _clean(value: Any) -> Any:
    """Plain JSON-able values: empty text and NaN become ``None``, dates become ISO text."""
    if value is None:
        return None
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (bool, int, float)):
        return value
    if hasattr(value, "item"):  # numpy scalars from Parquet
        return _clean(value.item())
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _clean(v) for k, v in value.items()}
    return str(value)


def _read_delimited(path: Path, delimiter: str) -> tuple[list[str], list[dict[str, Any]]]:
    try:
        text = path.read_bytes().decode("utf-8-sig")  # Excel writes a BOM; AGORA's CSV has one
    except UnicodeDecodeError as exc:
        raise DataError(f"not UTF-8 text ({exc.reason} at byte {exc.start}): save it as UTF-8",
                        path=str(path)) from None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise DataError("the metadata file is empty", path=str(path)) from None
    except csv.Error as exc:
        raise DataError(f"line 1: {exc}", path=str(path)) from None
    columns = _unique_columns([h.strip() for h in header], path)
    records: list[dict[str, Any]] = []
    try:
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            if len(cells) > len(columns) and any(c.strip() for c in cells[len(columns):]):
                raise DataError(f"line {reader.line_num}: {len(cells)} cells for {len(columns)} columns",
                                path=str(path))
            records.append(dict(zip(columns, cells, strict=False)))
    except csv.Error as exc:
        raise DataError(f"line {reader.line_num}: {exc}", path=str(path)) from None
    return columns, records


def _read_jsonl(path: Path) -> tuple[list[str], list[dict[str, Any]]]:
    columns: dict[str, None] = {}
    records: list[dict[str, Any]] = []
    with path.open(encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f"line {number}: not JSON ({exc.msg})", path=str(path)) from None
            if not isinstance(record, dict):
                raise DataError(f"line {number}: expected a JSON object", path=str(path))
            columns.update(dict.fromkeys(str(k) for k in record))
            records.append({str(k): v for k, v in record.items()})
    return list(columns), records


def _read_parquet(path: Path) -> tuple[list[str], list[dict[str, Any]]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise DataError(f"not a readable Parquet file: {exc}", path=str(path)) from None
    columns = _unique_columns([str(c) for c in table.column_names], path)
    return columns, table.to_pylist()


def _unique_columns(names: Sequence[str], path: Path) -> list[str]:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise DataError(f"column {name!r} appears twice in the header", path=str(path))
        seen.add(name)
    return list(names)
