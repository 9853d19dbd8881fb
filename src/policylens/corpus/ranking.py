"""A researcher's ranking of a collection: scores joined to metadata, grouped and compared.

``rank_documents(paths, metadata=..., key=..., group_by=...)`` extracts, tags and
scores every file on an engine (one bad file never stops the rest), joins each
document to its metadata row, and returns a ``Ranking``: documents most centralized
first, groups with bootstrap intervals, the join's loose ends, and the tagged
sentences the HTML report needs. ``policylens rank`` is a thin layer over it.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from policylens.corpus.inputs import collect_files
from policylens.errors import UsageError
from policylens.nlp.types import TaggedDocument
from policylens.rank.groups import Group, GroupBy, GroupDifference, compare_groups, find_pair, group_scores
from policylens.rank.metadata import MetadataJoin, MetadataTable, join_metadata, normalise_key, read_metadata
from policylens.rank.types import FrameworkScore

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from policylens.corpus.engines import Engine, Outcome

MetadataSource = str | Path | MetadataTable | Mapping[str, Mapping[str, Any]] | Any  # Any: a DataFrame
Mapper = Callable[["Engine", Callable[[Path], Any], Sequence[Path]], "list[Outcome[Any]]"]


@dataclass(frozen=True, slots=True)
class RankedDocument:
    """One ranked document: its id (file stem or manifest id), score and metadata row."""

    id: str
    score: FrameworkScore
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, **self.score.to_dict(), "metadata": dict(self.metadata)}


@dataclass(frozen=True, slots=True)
class Failure:
    """An input that could not be ranked, with the reason and the error's stable code."""

    source: str
    error: str
    code: str

    def to_dict(self) -> dict[str, str]:
        return {"source": self.source, "error": self.error, "code": self.code}


@dataclass(frozen=True)
class Ranking:
    """Documents most centralized first, their groups, and what did not join or failed."""

    documents: tuple[RankedDocument, ...]
    groups: tuple[Group, ...] = ()
    comparisons: tuple[GroupDifference, ...] = ()
    group_by: tuple[GroupBy, ...] = ()
    join: MetadataJoin | None = None
    metadata_columns: tuple[str, ...] = ()
    failures: tuple[Failure, ...] = ()
    tagged: Mapping[str, TaggedDocument] = field(default_factory=dict, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.documents)

    @property
    def scores(self) -> list[FrameworkScore]:
        return [d.score for d in self.documents]

    def compare(self, a: str, b: str) -> GroupDifference:
        """Group ``a`` minus group ``b`` (values of one ``group_by`` column), with its interval."""
        first, second = find_pair(self.groups, a, b)
        return compare_groups(first, second, {d.id: d.score for d in self.documents})

    def to_dict(self) -> dict[str, Any]:
        """``{"documents": [...], "groups": [...], "comparisons": [...], "metadata_join": ...}``."""
        data: dict[str, Any] = {"documents": [d.to_dict() for d in self.documents],
                                "groups": [g.to_dict() for g in self.groups]}
        if self.comparisons:
            data["comparisons"] = [c.to_dict() for c in self.comparisons]
        if self.join is not None:
            data["metadata_join"] = self.join.to_dict()
        if self.failures:
            data["failures"] = [f.to_dict() for f in self.failures]
        return data

    def to_json(self) -> str:
        """A JSON list of documents; an object with ``groups`` as well when grouped."""
        data: Any = self.to_dict() if self.group_by else [d.to_dict() for d in self.documents]
        return json.dumps(data, indent=2, ensure_ascii=False, default=str)

    def rows(self) -> list[dict[str, Any]]:
        """One flat row per document: the CSV columns of ``rank``, its ``id``, then ``metadata.<column>``."""
        from policylens.rank.export import csv_row

        rows = []
        for d in self.documents:
            row = {**csv_row(d.score), "id": d.id}
            row.update({f"metadata.{c}": d.metadata.get(c) for c in self.metadata_columns})
            rows.append(row)
        return rows

    def columns(self) -> list[str]:
        from policylens.rank.export import CSV_FIELDS

        return [*CSV_FIELDS, "id", *(f"metadata.{c}" for c in self.metadata_columns)]

    def to_csv(self) -> str:
        import csv
        import io

        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=self.columns(), lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.rows())
        return buffer.getvalue()

    def to_frame(self) -> pd.DataFrame:
        """One row per document (most centralized first), metadata as ``metadata.<column>``."""
        import pandas as pd

        return pd.DataFrame(self.rows(), columns=self.columns())

    def groups_frame(self) -> pd.DataFrame:
        """One row per group: ``by, value, n, index, ci_low, ci_high`` and the sentence shares."""
        import pandas as pd

        columns = ["by", "value", "n", "index", "ci_low", "ci_high", "share_centralized",
                   "share_sector_specific", "n_sentences", "n_silent"]
        return pd.DataFrame([g.to_dict() for g in self.groups], columns=columns)

    def to_parquet(self, path: str | Path) -> None:
        """The document rows as one Parquet file (written atomically)."""
        from policylens.atomic import atomic_path

        frame = self.to_frame()
        for column in frame.columns:
            if frame[column].dtype == object and frame[column].map(type).nunique() > 1:
                # a metadata column mixing numbers and text: Parquet needs one type per column
                frame[column] = frame[column].map(lambda v: None if v is None else str(v))
        with atomic_path(path) as tmp:
            frame.to_parquet(tmp, index=False)

    def to_report(self, path: str | Path, *, title: str = "policylens ranking",
                  settings: Any = None) -> None:
        """The self-contained HTML report (overview, groups, table, evidence on demand)."""
        from policylens.report.html import write_report

        write_report(Path(path), self.scores, self.tagged, title=title, settings=settings,
                     collection=self)


def rank_documents(paths: str | Path | Iterable[str | Path], *, metadata: MetadataSource | None = None,
                   key: str | None = None, group_by: Iterable[str | GroupBy] = (),
                   compare: tuple[str, str] | None = None, title_column: str | None = None,
                   exclude_silent: bool = False, method: str | None = None, engine: str = "local",
                   workers: int | None = None, scheduler: str | None = None, timeout: float | None = None,
                   password: str | None = None, scope: str | None = None,
                   facets: str | Sequence[str] | None = None,
                   keep_sentences: bool = True, mapper: Mapper | None = None,
                   role_model: str = "linear") -> Ranking:
    """Extract, tag and score the files at ``paths`` (folders are searched) and rank them.

    ``metadata`` is a CSV/TSV/JSONL/Parquet file, a pandas DataFrame or a ``MetadataTable``,
    joined on column ``key`` to each document's file stem. ``group_by`` names metadata
    columns (``"COLUMN:year"`` groups a date column by year); ``compare=(a, b)`` adds the
    difference of two groups; ``timeout`` is the local engine's limit per document in seconds
    (``None``: its default, ``0``: none); ``exclude_silent`` leaves documents without governance language
    out of the group statistics. ``scope`` overrides the scope model (``horizontal``, ``targeted``
    or ``none``) for every document. ``facets`` chooses the document facet families (default:
    sector and instrument; ``"agora"`` adds AGORA's taxonomy, ``"none"`` skips them).
    ``role_model="encoder"`` tags with the encoder role mode (slower; docs/tagging.md).
    Unreadable files end up in ``Ranking.failures``.
    """
    from policylens.corpus.engines import get_engine
    from policylens.extract import SUFFIXES
    from policylens.rank.analysis import Scored, score_file, warm
    from policylens.rank.scoring import check_method

    method = check_method(method)
    table = load_metadata(metadata, key)  # a bad table fails before hours of work
    specs = _specs(group_by, table, title_column)
    items = [paths] if isinstance(paths, (str, Path)) else list(paths)
    files = collect_files([Path(p) for p in items], SUFFIXES)
    work = functools.partial(score_file, keep_sentences=keep_sentences, password=password, method=method,
                             scope=scope, facets=facets, role_model=role_model)
    runner = get_engine(engine, workers=workers, scheduler=scheduler, timeout=timeout,
                        warm=functools.partial(warm, role_model))
    try:
        largest_first = sorted(files, key=_size, reverse=True)
        outcomes = mapper(runner, work, largest_first) if mapper else list(runner.map(work, largest_first))
    finally:
        runner.close()
    by_item = {str(o.item): o for o in outcomes}
    ordered = [by_item[str(f)] for f in files if str(f) in by_item]
    results: list[Scored] = [o.value for o in ordered if o.ok and o.value is not None]
    failures = tuple(Failure(str(o.item), o.error or "", o.error_code or "error")
                     for o in ordered if not o.ok)
    scores = [r.score for r in results]
    return build_ranking(scores, [Path(s.doc).stem for s in scores], table=table, group_by=specs,
                         compare=compare, title_column=title_column, failures=failures,
                         exclude_silent=exclude_silent,
                         tagged={r.score.doc: r.tagged for r in results if r.tagged is not None})


def _size(path: Path) -> int:
    """A file's size, the cost estimate that sends the largest documents first: one started
    last would keep one worker busy while the others sit idle."""
    try:
        return path.stat().st_size
    except OSError:  # reported by its worker, with the reason
        return 0


def build_ranking(scores: Sequence[FrameworkScore], ids: Sequence[str], *,
                  table: MetadataTable | None = None,
                  own_metadata: Mapping[str, Mapping[str, Any]] | None = None,
                  group_by: Iterable[str | GroupBy] = (), compare: tuple[str, str] | None = None,
                  title_column: str | None = None, failures: Sequence[Failure] = (),
                  tagged: Mapping[str, TaggedDocument] | None = None,
                  exclude_silent: bool = False) -> Ranking:
    """Rank ``scores`` (``ids[i]`` names ``scores[i]``), join metadata, group and compare.

    ``own_metadata`` is what documents carry themselves (a corpus manifest's fields);
    a metadata table's columns are laid over it.
    """
    if len(ids) != len(scores):
        raise ValueError("one id per score")
    own = own_metadata or {}
    own_columns = list(dict.fromkeys(c for doc_id in ids for c in own.get(doc_id, {})))
    specs = _specs(group_by, table, title_column, also=own_columns)
    join = join_metadata(ids, table) if table is not None else None
    rows = {doc_id: {**own.get(doc_id, {}), **(join.matched.get(doc_id, {}) if join else {})}
            for doc_id in ids}
    columns = own_columns + [c for c in (table.columns if table else ()) if c not in own_columns]
    named = [(_titled(s, rows[doc_id], title_column), doc_id) for s, doc_id in zip(scores, ids, strict=True)]
    # the order of rank(): most centralized first, the narrower interval first on ties, then by name
    named.sort(key=lambda p: (-p[0].index, p[0].ci_high - p[0].ci_low, p[0].doc, p[1]))
    documents = tuple(RankedDocument(id=doc_id, score=s.with_rank(i), metadata=rows[doc_id])
                      for i, (s, doc_id) in enumerate(named, start=1))
    groups = tuple(g for spec in specs for g in group_scores(
        [d.score for d in documents], [d.id for d in documents], rows, spec,
        exclude_silent=exclude_silent))
    ranking = Ranking(documents=documents, groups=groups, group_by=tuple(specs), join=join,
                      metadata_columns=tuple(columns), failures=tuple(failures), tagged=dict(tagged or {}))
    if compare is not None:
        ranking = replace(ranking, comparisons=(ranking.compare(*compare),))
    return ranking


def _titled(score: FrameworkScore, row: Mapping[str, Any], column: str | None) -> FrameworkScore:
    if column is None:
        return score
    value = row.get(column)
    return replace(score, title=" ".join(str(value).split())) if value not in (None, "") else score


def _specs(group_by: Iterable[str | GroupBy], table: MetadataTable | None, title_column: str | None,
           *, also: Sequence[str] = ()) -> list[GroupBy]:
    """Parsed ``group_by``, each naming a column of the table or of the documents' own metadata."""
    specs = [GroupBy.parse(g) for g in ([group_by] if isinstance(group_by, str) else group_by)]
    known = [*(table.columns if table is not None else ()), *also]
    if table is None and not also and (specs or title_column):
        raise UsageError(("--title-column" if title_column else "--group-by") + " needs --metadata")
    for column in [*(s.column for s in specs), *([title_column] if title_column else [])]:
        if column not in known:
            where = table.source if table is not None else "the documents' metadata"
            raise UsageError(f"no column {column!r} in {where}")
    return specs


def load_metadata(source: MetadataSource | None, key: str | None) -> MetadataTable | None:
    """A ``MetadataTable`` from a file path, a pandas DataFrame, a table, or ``None``."""
    if source is None:
        if key is not None:
            raise UsageError("--key needs --metadata")
        return None
    if isinstance(source, MetadataTable):
        return source
    if key is None:
        raise UsageError("--metadata needs --key COLUMN: the column holding each document's id "
                         "(its file name without the suffix)")
    if isinstance(source, (str, Path)):
        return read_metadata(source, key)
    if hasattr(source, "to_dict") and hasattr(source, "columns"):  # a pandas DataFrame
        from policylens.rank.metadata import _clean

        columns = [str(c) for c in source.columns]
        if key not in columns:
            raise UsageError(f"no column {key!r} in the metadata frame")
        rows: dict[str, dict[str, Any]] = {}
        for record in source.to_dict(orient="records"):
            value = normalise_key(record.get(key))
            if value is not None and value not in rows:
                rows[value] = {str(c): _clean(v) for c, v in record.items()}
        return MetadataTable(source="DataFrame", key=key, columns=tuple(columns), rows=rows)
    raise UsageError(f"metadata must be a file path, a DataFrame or a MetadataTable, "
                     f"not {type(source).__name__}")
