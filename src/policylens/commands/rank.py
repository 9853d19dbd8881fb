"""CLI commands of the rank stage: ``policylens rank`` and ``policylens diff``."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from policylens.commands._common import (
    ENGINE_HELP,
    EXIT_FAILED,
    EXIT_OK,
    LABEL_STYLE,
    ROLE_MODEL_HELP,
    SCHEDULER_HELP,
    TIMEOUT_HELP,
    WORKERS_HELP,
    DiffFormat,
    EngineName,
    RankFormat,
    RoleMode,
    Scope,
    err,
    expand_inputs,
    handle_errors,
    out,
    progress_map,
)
from policylens.errors import UsageError
from policylens.extract import SUFFIXES  # every file the extractor reads (already loaded by the CLI)


def register(app: typer.Typer) -> None:
    """Add ``rank`` and ``diff`` to the policylens app."""
    app.command("rank")(rank_command)
    app.command("diff")(diff_command)


@handle_errors
def rank_command(
    paths: list[Path] = typer.Argument(None, help="Files or folders (searched recursively for "
                                       + " ".join(SUFFIXES) + ")."),
    fmt: RankFormat = typer.Option(RankFormat.table, "--format", "-f", help="Output format "
                                   "(parquet needs --out)."),
    out_file: Path | None = typer.Option(None, "--out", "-o", help="Write the csv, json or parquet "
                                         "output to this file instead of stdout."),
    report: Path | None = typer.Option(None, "--report", help="Also write an HTML report to this file."),
    metadata: Path | None = typer.Option(None, "--metadata", help="A table of metadata (CSV, TSV, "
                                         "JSONL or Parquet) to join to the documents."),
    key: str | None = typer.Option(None, "--key", help="The --metadata column holding each document's "
                                   "id: its file name without the suffix (or its manifest id)."),
    title_column: str | None = typer.Option(None, "--title-column", help="Take document titles from "
                                            "this metadata column."),
    group_by: list[str] = typer.Option(None, "--group-by", help="Compare groups of documents by this "
                                       "metadata column (repeatable); COLUMN:year groups a date by year."),
    compare: tuple[str, str] | None = typer.Option(None, "--compare", help="Two groups of a --group-by "
                                                   "column: their difference with its 95% interval."),
    exclude_silent: bool = typer.Option(False, "--exclude-silent", help="Leave documents without "
                                        "governance language out of the group statistics."),
    method: str | None = typer.Option(None, "--method", help="aggregate, classifier or wordscores "
                                      "(default: the best on held-out frameworks, see docs/ranking.md)."),
    engine: EngineName = typer.Option(EngineName.local, "--engine", help=ENGINE_HELP),
    scheduler: str | None = typer.Option(None, "--scheduler", help=SCHEDULER_HELP),
    workers: int | None = typer.Option(None, "--workers", "-w", help=WORKERS_HELP),
    timeout: float | None = typer.Option(None, "--timeout", min=0, help=TIMEOUT_HELP),
    store: Path | None = typer.Option(None, "--store", help="Rank what this corpus store holds, "
                                      "without re-processing documents."),
    password: str | None = typer.Option(None, "--password", help="Password for encrypted PDFs."),
    scope: Scope | None = typer.Option(None, "--scope", help="Instrument scope of a single document, "
                                       "overriding the scope model (recorded as overridden)."),
    facets: str | None = typer.Option(None, "--facets", help="Document facets to decide: codebook "
                                      "(sector and instrument, the default), agora (those and AGORA's "
                                      "own taxonomy), none, or a comma-separated list of sector, "
                                      "instrument, agora. With --store, given facets are decided again "
                                      "from the stored sentences."),
    role_model: RoleMode = typer.Option(RoleMode.linear, "--role-model", help=ROLE_MODEL_HELP),
) -> None:
    """Rank frameworks from most centralized (+1) to most sector-specific (-1).

    Each document is extracted, tagged and scored in parallel; one unreadable file,
    or one that runs past --timeout, is reported on stderr and the others are still
    ranked (exit code 1). With
    --metadata and --group-by, groups of documents are compared (mean index and a
    bootstrap interval over documents; see docs/workflow.md).

    Example: policylens rank laws/ --metadata laws.csv --key id --group-by country --report r.html
    """
    from policylens.corpus.ranking import build_ranking, load_metadata, rank_documents
    from policylens.nlp.document_facets import resolve_families
    from policylens.rank.scoring import check_method

    if fmt == "parquet" and out_file is None:
        raise UsageError("--format parquet writes a file: give --out FILE.parquet")
    if out_file is not None and fmt == "table":
        raise UsageError("--out writes csv, json or parquet: add --format")
    method = check_method(method)
    families = resolve_families(facets)  # a bad --facets fails before any work
    if report is not None:
        _check_report_path(report)
    group_by = group_by or []
    if compare is not None and not group_by:
        raise UsageError("--compare needs --group-by: it compares two groups of one column")
    if store is not None:
        if paths:
            raise UsageError("give either documents or --store, not both")
        if role_model != RoleMode.linear:
            raise UsageError("--role-model applies when documents are tagged; --store ranks the "
                             "sentences it holds as they were tagged")
        from policylens.corpus.store import Store

        table = load_metadata(metadata, key)
        with Store(store, create=False) as opened:  # ranking only reads: never create a store here
            scores = opened.latest_scores()
            if facets is not None:  # decided again from the stored sentences: no re-processing
                scores = _refaceted(opened, scores, families)
            ids = [str(s.extra["id"]) for s in scores]
            own = {str(s.extra["id"]): {k: s.extra.get(k) for k in MANIFEST_METADATA} for s in scores}
            ranking = build_ranking(scores, ids, table=table, own_metadata=own, group_by=group_by,
                                    compare=compare, title_column=title_column,
                                    exclude_silent=exclude_silent)
            # The store keeps every sentence, so the report needs no re-processing either.
            if report is not None:
                tagged = {d.score.doc: opened.tagged(d.id, model_version=d.score.model_version or None)
                          for d in ranking.documents}
                ranking = replace(ranking, tagged=tagged)
        _finish(ranking, fmt, out_file, report)
        raise typer.Exit(EXIT_OK)
    if not paths:
        raise UsageError("give at least one file or folder (or --store PATH)")
    if scope is not None and len(expand_inputs(paths, SUFFIXES)) != 1:
        raise UsageError("--scope is for a single document; in a corpus manifest give each document "
                         "its own scope = \"...\"")
    mapper = functools.partial(_progress, description="ranking")
    ranking = rank_documents(paths, metadata=metadata, key=key, group_by=group_by, compare=compare,
                             title_column=title_column, exclude_silent=exclude_silent, method=method,
                             engine=engine.value, workers=workers, timeout=timeout,
                             scheduler=scheduler, password=password,
                             scope=scope.value if scope is not None else None, facets=families,
                             keep_sentences=report is not None, mapper=mapper,
                             role_model=role_model.value)
    for failure in ranking.failures:
        err.print(f"[bold red]error:[/] {escape(f'{failure.source}: {failure.error} [{failure.code}]')}",
                  markup=True, highlight=False)
    _finish(ranking, fmt, out_file, report)
    if ranking.failures:
        total = len(ranking.failures) + len(ranking)
        err.print(f"{len(ranking.failures)} of {total} documents failed; {len(ranking)} ranked.")
    raise typer.Exit(EXIT_FAILED if ranking.failures else EXIT_OK)


def _refaceted(store: Any, scores: Sequence[Any], families: Sequence[str]) -> list[Any]:
    """Stored scores with their document facets decided again from the stored sentences."""
    from policylens.nlp.document_facets import document_facets

    out = []
    for s in scores:
        tagged = store.tagged(s.extra["id"], model_version=s.model_version or None)
        out.append(replace(s, document_facets=document_facets(tagged, families=families)))
    return out


# What a corpus manifest says about each document, carried as its own metadata by `rank --store`.
MANIFEST_METADATA = ("id", "jurisdiction", "year", "doc_type")


def _progress(engine: Any, fn: Any, items: Sequence[Any], *, description: str) -> list[Any]:
    return progress_map(engine, fn, items, description=description, label=lambda p: Path(p).name)


def _finish(ranking: Any, fmt: str, out_file: Path | None, report: Path | None) -> None:
    """Print (or write) the ranking, say what did not join, write the report."""
    if len(ranking) or fmt != "table":  # JSON and CSV stay parseable when every input failed
        _print_ranking(ranking, fmt, out_file)
    if ranking.join is not None:
        _print_join(ranking.join)
    if report is not None and len(ranking):
        ranking.to_report(report, title="policylens ranking")
        err.print(f"report written to {report}", markup=False)


def _print_join(join: Any) -> None:
    def some(items: Sequence[str]) -> str:
        shown = ", ".join(items[:10])
        return shown + (f" … (+{len(items) - 10} more)" if len(items) > 10 else "")

    total = len(join.matched) + len(join.documents_without_row)
    err.print(f"metadata: {len(join.matched)} of {total} documents joined a row", markup=False)
    if join.documents_without_row:
        err.print(f"metadata: {len(join.documents_without_row)} documents without a row: "
                  f"{some(join.documents_without_row)}", markup=False)
    if join.rows_without_document:
        err.print(f"metadata: {len(join.rows_without_document)} rows without a document: "
                  f"{some(join.rows_without_document)}", markup=False)
    if join.duplicates:
        err.print(f"metadata: {len(join.duplicates)} keys appear more than once (the first row is used): "
                  f"{some(join.duplicates)}", markup=False)


def _check_report_path(report: Path) -> None:
    """Fail before the work, not after it."""
    if report.suffix.lower() not in (".html", ".htm"):
        raise UsageError(f"--report writes HTML: give a .html file name, not {report.name}")


def _print_ranking(ranking: Any, fmt: str, out_file: Path | None) -> None:
    from policylens.atomic import write_text_atomic

    if fmt == "parquet":
        ranking.to_parquet(out_file)
        err.print(f"{len(ranking)} documents written to {out_file}", markup=False)
        return
    text = ranking.to_json() + "\n" if fmt == "json" else ranking.to_csv() if fmt == "csv" else None
    if text is not None and out_file is not None:
        write_text_atomic(out_file, text)
        err.print(f"{len(ranking)} documents written to {out_file}", markup=False)
    elif text is not None:
        out.file.write(text)
        out.file.flush()
    else:
        out.print(score_table(ranking.scores))
        for by in ranking.group_by:
            out.print(group_table([g for g in ranking.groups if g.by == by.name], by.name))
        for c in ranking.comparisons:
            out.print(comparison_line(c), markup=False)


def group_table(groups: Sequence[Any], by: str) -> Table:
    """Groups of one --group-by column: n, mean index, interval, sentence shares."""
    from policylens.report.charts import lean_of

    table = Table(title=f"Groups by {by} (mean index of the documents; 95% bootstrap interval "
                  "over documents)", title_justify="left")
    table.add_column(by, overflow="fold")
    table.add_column("n", justify="right")
    table.add_column("Mean index", justify="right")
    table.add_column("95% interval", justify="right")
    table.add_column("% centr.", justify="right")
    table.add_column("% sector", justify="right")
    table.add_column("silent", justify="right")
    for g in groups:
        interval = f"[{g.ci_low:+.2f}, {g.ci_high:+.2f}]" if g.ci_low is not None else "—"
        table.add_row(Text(g.label), str(g.n), Text(f"{g.index:+.3f}", style=LABEL_STYLE[lean_of(g.index)]),
                      interval, f"{100 * g.share_centralized:.1f}", f"{100 * g.share_sector_specific:.1f}",
                      str(g.n_silent))
    return table


def comparison_line(c: Any) -> str:
    """``A − B = +0.123, 95% interval [...]`` and whether the interval excludes 0."""
    if c.ci_low is None:
        return f"{c.a.label} − {c.b.label} = {c.difference:+.3f} (no interval: a group has one document)"
    verdict = ("the interval excludes 0" if c.ci_low > 0 or c.ci_high < 0
               else "the interval includes 0: no clear difference")
    return (f"{c.a.label} − {c.b.label} = {c.difference:+.3f}, 95% interval [{c.ci_low:+.3f}, "
            f"{c.ci_high:+.3f}] (n = {c.a.n} and {c.b.n}; {verdict})")


SCOPE_SHORT = {"horizontal": "horiz", "targeted": "targ", "none": "none"}


def score_table(ranked: Sequence[Any]) -> Table:
    """The ranking as a rich table, most centralized first."""
    from policylens.report.charts import lean_of  # the HTML report's lean, so colours agree

    method = ranked[0].method if ranked else "aggregate"
    table = Table(title=f"Centralization ranking ({method}; +1 centralized, -1 sector-specific)",
                  title_justify="left", caption="Scope: horiz(ontal), targ(eted) or none; * set by the user",
                  caption_justify="left")
    table.add_column("#", justify="right")
    table.add_column("Document", overflow="fold")
    table.add_column("Index", justify="right")
    table.add_column("95% interval", justify="right")
    table.add_column("Sent.", justify="right")
    table.add_column("Centr.", justify="right")
    table.add_column("Sector", justify="right")
    table.add_column("Neutral", justify="right")
    for s in ranked:
        index = Text(f"{s.index:+.3f}", style=LABEL_STYLE[lean_of(s.index)])
        scope = SCOPE_SHORT[s.scope.label] + ("*" if s.scope.overridden else "")
        name = Path(s.doc).name
        document = Text(s.title or name)  # Text(): titles are document text, never markup
        document.append(f"\n{name} · scope: {scope}" if s.title and s.title != name else f"\nscope: {scope}",
                        style="dim")
        for family, found in s.document_facets.items():
            if found.labels:  # AGORA's tags are long: the table gives their number, JSON/CSV the tags
                names = ", ".join(found.labels) if family != "agora" else f"{len(found.labels)} tags"
                document.append(f"\n{family}: {names}", style="dim")
        table.add_row(str(s.rank), document, index,
                      f"[{s.ci_low:+.2f}, {s.ci_high:+.2f}]", str(s.n_sentences),
                      str(s.counts.get("centralized", 0)), str(s.counts.get("sector_specific", 0)),
                      str(s.counts.get("neutral", 0)))
    return table


@handle_errors
def diff_command(
    old: Path = typer.Argument(..., help="The earlier version (e.g. the bill as introduced)."),
    new: Path = typer.Argument(..., help="The later version (e.g. the act as passed)."),
    fmt: DiffFormat = typer.Option(DiffFormat.table, "--format", "-f", help="Output format."),
    password: str | None = typer.Option(None, "--password", help="Password for encrypted PDFs."),
) -> None:
    """Compare two versions of one framework: sentences added, removed and relabelled.

    Example: policylens diff bill_introduced.pdf bill_passed.pdf
    """
    from policylens.rank import analyze, diff

    for path in (old, new):
        if not path.is_file():
            raise UsageError(f"no such file: {path}")
    result = diff(analyze(old, password=password, facets="none").tagged,
                  analyze(new, password=password, facets="none").tagged)
    if fmt == "json":
        import json

        out.print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False), markup=False,
                  highlight=False)
        return
    out.print(f"index {result.old_index:+.3f} -> {result.new_index:+.3f} (change {result.delta:+.3f}); "
              f"{len(result.added)} added, {len(result.removed)} removed, "
              f"{len(result.relabelled)} relabelled, {len(result.reworded)} reworded, "
              f"{result.unchanged} unchanged", markup=False)
    table = Table(show_lines=False)
    table.add_column("Change")
    table.add_column("Old p.", justify="right")
    table.add_column("New p.", justify="right")
    table.add_column("Label")
    table.add_column("Sentence", overflow="fold")
    def page(p: int | None) -> str:
        return "" if p is None else str(p)

    # Text(): sentences are document text ("[insert date]" in a draft), never markup
    for s in result.added:
        table.add_row("[green]added[/]", "", page(s.page), s.label, Text(s.text))
    for s in result.removed:
        table.add_row("[red]removed[/]", page(s.page), "", s.label, Text(s.text))
    for c in result.relabelled:
        table.add_row("[yellow]relabelled[/]", page(c.old.page), page(c.new.page),
                      f"{c.old.label} -> {c.new.label}", Text(c.new.text))
    for c in result.reworded:
        table.add_row("[cyan]reworded[/]", page(c.old.page), page(c.new.page), c.new.label, Text(c.new.text))
    out.print(table)
