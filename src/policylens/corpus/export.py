"""Exporting a store's sentences or scores as Parquet, CSV or JSON Lines.

Only the current version of each active document counts, tagged by the newest
model that scored it. Cues, facets and counts are JSON strings in every format,
so the columns stay flat for pandas, DuckDB and spreadsheets; a score's document
facets are ``document_sectors`` and ``document_instruments`` (JSON lists of the
assigned values) and ``document_facets`` (every family's labels, probabilities,
mention counts and evidence sentences).

A single file is written to a temporary name and renamed into place. A
partitioned Parquet export is a Hive-style folder (``jurisdiction=EU/...``)
that ``pandas.read_parquet(folder)`` and DuckDB's
``read_parquet('folder/**/*.parquet', hive_partitioning = true)`` read back.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from policylens.atomic import atomic_path
from policylens.corpus.store import Store
from policylens.errors import UsageError

Format = Literal["parquet", "csv", "jsonl"]
What = Literal["sentences", "scores"]
FORMATS: tuple[str, ...] = ("parquet", "csv", "jsonl")
WHATS: tuple[str, ...] = ("sentences", "scores")
MARKER = "_policylens_export.json"  # marks a folder this module may replace

_COLUMNS: dict[str, list[tuple[str, str]]] = {
    "sentences": [
        ("document_id", "string"), ("title", "string"), ("jurisdiction", "string"), ("year", "int32"),
        ("doc_type", "string"), ("sha256", "string"), ("model_version", "string"),
        ("sentence_id", "int32"), ("text", "string"), ("label", "string"),
        ("p_centralized", "float64"), ("p_sector_specific", "float64"), ("p_neutral", "float64"),
        ("cues", "string"), ("facets", "string"), ("page", "int32"), ("section", "string"),
        ("role", "string"), ("role_probs", "string"), ("scope", "string"), ("scope_overridden", "int32"),
    ],
    "scores": [
        ("document_id", "string"), ("title", "string"), ("jurisdiction", "string"), ("year", "int32"),
        ("doc_type", "string"), ("sha256", "string"), ("fetched_at", "string"),
        ("model_version", "string"), ("method", "string"), ("index", "float64"), ("ci_low", "float64"),
        ("ci_high", "float64"), ("n_sentences", "int32"), ("counts", "string"), ("facets", "string"),
        ("scope", "string"), ("scope_overridden", "int32"), ("scope_probs", "string"),
        ("document_sectors", "string"), ("document_instruments", "string"), ("document_facets", "string"),
    ],
}


def columns(what: str) -> list[str]:
    """The column names of an export of ``what``."""
    return [name for name, _ in _COLUMNS[_check_what(what)]]


def export(store: Store, out: str | Path, *, fmt: str = "parquet", what: str = "sentences",
           partition_by: str | None = None) -> int:
    """Write ``what`` (sentences or scores) from ``store`` to ``out``; return the number of rows.

    With ``partition_by`` (a column name, Parquet only) ``out`` is a folder of
    Hive partitions; it is replaced only if an earlier export made it.
    """
    what = _check_what(what)
    if fmt not in FORMATS:
        raise UsageError(f"unknown export format {fmt!r}: use {', '.join(FORMATS)}")
    out = Path(out)
    batches = store.sentence_rows() if what == "sentences" else store.score_rows()
    if partition_by is not None:
        if fmt != "parquet":
            raise UsageError("--partition-by needs --format parquet")
        if partition_by not in columns(what):
            raise UsageError(f"cannot partition by {partition_by!r}: not a column of {what} "
                             f"({', '.join(columns(what))})")
        return _write_partitioned(batches, out, what, partition_by)
    if out.is_dir():
        raise UsageError(f"{out} is a folder: name a file, or pass --partition-by for a partitioned export")
    if not out.parent.is_dir():
        raise UsageError(f"the folder of {out} does not exist")
    writer = {"parquet": _write_parquet, "csv": _write_csv, "jsonl": _write_jsonl}[fmt]
    with atomic_path(out) as tmp:
        rows = writer(batches, tmp, what)
    return rows


def export_partitioned(store: Store, folder: str | Path, *,
                       partition_by: str = "jurisdiction") -> dict[str, int]:
    """Write both sentences and scores as partitioned Parquet under ``folder`` (``refresh --out``)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return {what: export(store, folder / what, what=what, partition_by=partition_by) for what in WHATS}


def _check_what(what: str) -> str:
    if what not in WHATS:
        raise UsageError(f"unknown export {what!r}: use {' or '.join(WHATS)}")
    return what


def _schema(what: str) -> Any:
    import pyarrow as pa

    types = {"string": pa.string(), "int32": pa.int32(), "float64": pa.float64()}
    return pa.schema([(name, types[kind]) for name, kind in _COLUMNS[what]])


def _record_batches(batches: Iterator[list[dict[str, Any]]], what: str) -> Iterator[Any]:
    import pyarrow as pa

    schema = _schema(what)
    for rows in batches:
        yield pa.RecordBatch.from_pylist(rows, schema=schema)


def _write_parquet(batches: Iterator[list[dict[str, Any]]], path: Path, what: str) -> int:
    import pyarrow.parquet as pq

    rows = 0
    with pq.ParquetWriter(path, _schema(what)) as writer:
        for batch in _record_batches(batches, what):
            writer.write_batch(batch)
            rows += batch.num_rows
    return rows


def _write_csv(batches: Iterator[list[dict[str, Any]]], path: Path, what: str) -> int:
    rows = 0
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns(what))
        writer.writeheader()
        for batch in batches:
            writer.writerows(batch)
            rows += len(batch)
    return rows


def _write_jsonl(batches: Iterator[list[dict[str, Any]]], path: Path, what: str) -> int:
    rows = 0
    with open(path, "w", encoding="utf-8") as handle:
        for batch in batches:
            for row in batch:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            rows += len(batch)
    return rows


def _write_partitioned(batches: Iterator[list[dict[str, Any]]], folder: Path, what: str,
                       partition_by: str) -> int:
    import pyarrow as pa
    import pyarrow.dataset as ds

    if folder.exists() and not (folder / MARKER).is_file():
        raise UsageError(f"{folder} exists and was not written by 'policylens corpus export': "
                         "choose a new folder")
    folder.parent.mkdir(parents=True, exist_ok=True)
    # build beside the target, then swap, so readers never see half an export
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    rows = 0

    def counted() -> Iterator[Any]:
        nonlocal rows
        for batch in _record_batches(batches, what):
            rows += batch.num_rows
            yield batch

    try:
        schema = _schema(what)
        ds.write_dataset(pa.RecordBatchReader.from_batches(schema, counted()), tmp, format="parquet",
                         partitioning=[partition_by], partitioning_flavor="hive",
                         existing_data_behavior="overwrite_or_ignore",
                         basename_template="part-{i}.parquet")
        (tmp / MARKER).write_text(json.dumps({"what": what, "partition_by": partition_by, "rows": rows}),
                                  encoding="utf-8")
        if folder.exists():
            old = folder.with_name(f".{folder.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(folder, old)
            os.replace(tmp, folder)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return rows
