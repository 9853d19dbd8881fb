"""CLI commands of the corpus stage: ``policylens corpus refresh|status|export|add|gc``."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from policylens.commands._common import (
    ENGINE_HELP,
    EXIT_FAILED,
    EXIT_OK,
    SCHEDULER_HELP,
    TIMEOUT_HELP,
    WORKERS_HELP,
    EngineName,
    ExportFormat,
    ExportWhat,
    err,
    handle_errors,
    out,
)

if TYPE_CHECKING:  # the corpus modules load only when a command runs
    from policylens.corpus.gc import Collected
    from policylens.corpus.refresh import RefreshReport

STORE_HELP = "The store: a SQLite file, with raw files kept in <store>.objects/ beside it."
DEFAULT_STORE = Path("policylens.db")

corpus_app = typer.Typer(
    name="corpus",
    help="Keep a corpus of policy documents in a local store: refresh it from a manifest, "
         "inspect it, export it.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the policylens app."""
    app.add_typer(corpus_app, name="corpus")


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[str, int, int, str], None]]:
    """A progress bar on stderr (only on a terminal), fed by refresh's callback."""
    show = enabled and err.is_terminal
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("{task.fields[current]}"), console=err, disable=not show) as bar:
        tasks: dict[str, TaskID] = {}

        def update(phase: str, done: int, total: int, current: str) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(phase, total=total, current="")
            bar.update(tasks[phase], completed=done, total=total, current=current)

        yield update


@corpus_app.command("refresh")
@handle_errors
def refresh_command(
    manifest: Path = typer.Argument(..., help="The corpus manifest (TOML) to refresh from."),
    store: Path = typer.Option(DEFAULT_STORE, "--store", help=STORE_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print what changed as JSON on stdout."),
    engine: EngineName = typer.Option(EngineName.local, "--engine", help=ENGINE_HELP),
    scheduler: str | None = typer.Option(None, "--scheduler", help=SCHEDULER_HELP),
    workers: int | None = typer.Option(None, "--workers", min=1, help=WORKERS_HELP),
    max_bytes: int = typer.Option(100 * 1024 * 1024, "--max-bytes", min=1,
                                  help="Largest download accepted, in bytes."),
    timeout: float = typer.Option(300.0, "--timeout", min=0.1,
                                  help="Seconds one document's download may take in all, retries included "
                                       "(a connection silent for 30 s fails sooner)."),
    retries: int = typer.Option(3, "--retries", min=0, max=10, help="Retries of a failed download."),
    concurrency: int = typer.Option(8, "--concurrency", min=1, help="Simultaneous downloads."),
    per_host: int = typer.Option(4, "--per-host", min=1, help="Simultaneous downloads from one host."),
    out_dir: Path | None = typer.Option(None, "--out",
                                        help="Also write sentences and scores as partitioned Parquet here."),
    process_timeout: float | None = typer.Option(None, "--process-timeout", min=0, help=TIMEOUT_HELP),
) -> None:
    """Fetch a manifest's documents, process new and changed ones, and report what changed.

    Exit codes: 0 all documents ok, 1 some failed, 2 bad manifest or options,
    3 another refresh holds the store's lock.
    """
    from policylens.corpus.export import export_partitioned
    from policylens.corpus.manifest import load_manifest
    from policylens.corpus.refresh import RefreshSettings, refresh
    from policylens.corpus.store import Store

    settings = RefreshSettings.resolve({
        "engine": engine.value, "scheduler": scheduler, "workers": workers, "max_bytes": max_bytes,
        "timeout": timeout, "retries": retries, "concurrency": concurrency, "per_host": per_host,
        "process_timeout": process_timeout})
    parsed = load_manifest(manifest)  # a bad manifest must not create a store
    with Store(store) as db, _progress(not as_json) as progress:
        report = refresh(parsed, db, settings, progress=progress)
        exported = export_partitioned(db, out_dir) if out_dir is not None else None
    if as_json:
        out.print_json(json.dumps(report.to_dict()))
    else:
        _print_report(report)
        if exported is not None:
            err.print(f"exported {exported['sentences']} sentences and {exported['scores']} scores "
                      f"to {out_dir}", markup=False)
    raise typer.Exit(report.exit_code)


def _print_report(report: RefreshReport) -> None:
    summary = Table(title=f"Refresh (run {report.run_id}, model {report.model_version or '?'})")
    for column in ("new", "updated", "unchanged", "removed", "failed", "moved"):
        summary.add_column(column, justify="right")
    counts = report.counts()
    summary.add_row(*(str(counts[c]) for c in ("new", "updated", "unchanged", "removed", "failed", "moved")))
    out.print(summary)
    if report.rescored:
        out.print(f"re-tagged with model {report.model_version}: {', '.join(report.rescored)}")
    if report.aborted_runs:
        out.print(f"marked interrupted run(s) {', '.join(map(str, report.aborted_runs))} as aborted")
    if report.collected.files:
        out.print(_collected_line(report.collected), markup=False)
    if report.moved:
        moved = Table(title="Index moved")
        moved.add_column("document")
        moved.add_column("old", justify="right")
        moved.add_column("new", justify="right")
        for m in report.moved:
            moved.add_row(m.id, f"{m.old:+.3f}", f"{m.new:+.3f}")
        out.print(moved)
    for label, ids in (("new", report.new), ("updated", report.updated), ("removed", report.removed)):
        if ids:
            out.print(f"{label}: {', '.join(ids)}")
    if report.failed:
        failed = Table(title="Failed")
        failed.add_column("document")
        failed.add_column("reason")
        for doc_id, reason in report.failed:
            failed.add_row(Text(doc_id), Text(reason))  # Text: never read a reason as markup
        out.print(failed)


@corpus_app.command("status")
@handle_errors
def status_command(
    store: Path = typer.Option(DEFAULT_STORE, "--store", help=STORE_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the status as JSON."),
    runs: int = typer.Option(5, "--runs", min=1, help="How many recent runs to show."),
) -> None:
    """Show a store's documents, versions, model versions and recent runs."""
    from policylens.corpus.store import Store

    with Store(store, create=False) as db:
        status = db.status(runs=runs)
    if as_json:
        out.print_json(json.dumps(status.to_dict()))
        return
    out.print(f"store {status.path}: {status.active} active documents ({status.removed} removed), "
              f"{status.versions} versions, {status.scored} scored", markup=False)
    for model, n in status.model_versions.items():
        out.print(f"  model {model}: {n} documents")
    for family, counts in status.document_facets.items():  # document facets assigned, most common first
        out.print(f"  {family}: " + ", ".join(f"{label} {n}" for label, n in counts.items()), markup=False)
    table = Table(title="Recent runs")
    for column in ("run", "started", "ended", "status", "new", "updated", "unchanged", "failed"):
        table.add_column(column)
    for run in status.runs:
        table.add_row(str(run.id), run.started_at[:19], (run.ended_at or "")[:19], run.status,
                      *(str(run.counts.get(k, "")) for k in ("new", "updated", "unchanged", "failed")))
    out.print(table)


@corpus_app.command("export")
@handle_errors
def export_command(
    out_path: Path = typer.Option(..., "--out", help="The file (or, with --partition-by, folder) to write."),
    fmt: ExportFormat = typer.Option(ExportFormat.parquet, "--format", help="Output format."),
    what: ExportWhat = typer.Option(ExportWhat.sentences, "--what", help="What to export."),
    partition_by: str | None = typer.Option(None, "--partition-by",
                                            help="Write a Hive-partitioned Parquet folder split by "
                                                 "this column."),
    store: Path = typer.Option(DEFAULT_STORE, "--store", help=STORE_HELP),
) -> None:
    """Export the tagged sentences or the scores of a store's current documents."""
    from policylens.corpus.export import export
    from policylens.corpus.store import Store

    with Store(store, create=False) as db:
        rows = export(db, out_path, fmt=fmt.value, what=what.value, partition_by=partition_by)
    err.print(f"wrote {rows} {what.value} rows to {out_path}", markup=False)  # paths are never markup


@corpus_app.command("gc")
@handle_errors
def gc_command(
    store: Path = typer.Option(DEFAULT_STORE, "--store", help=STORE_HELP),
    dry_run: bool = typer.Option(False, "--dry-run", help="List what would be removed; remove nothing."),
    as_json: bool = typer.Option(False, "--json", help="Print what was removed as JSON."),
) -> None:
    """Remove raw files no stored version references (left by a killed refresh or a failed document).

    Runs under the store's refresh lock (exit code 3 while a refresh runs); every
    refresh also does this when it ends.
    """
    from policylens.corpus.gc import collect

    collected = collect(store, dry_run=dry_run)
    if as_json:
        out.print_json(json.dumps(collected.to_dict()))
        return
    if dry_run:
        for path in collected.paths:
            out.print(path, markup=False, highlight=False)
    out.print(_collected_line(collected), markup=False)


def _collected_line(collected: Collected) -> str:
    verb = "would remove" if collected.dry_run else "removed"
    return (f"{verb} {collected.objects} unreferenced raw file(s) and {collected.partial} partial "
            f"download(s), {collected.bytes / 1e6:.1f} MB")


@corpus_app.command("add")
@handle_errors
def add_command(
    paths: list[Path] = typer.Argument(..., help="Files or folders of documents to ingest."),
    store: Path = typer.Option(DEFAULT_STORE, "--store", help=STORE_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print what changed as JSON on stdout."),
    workers: int | None = typer.Option(None, "--workers", min=1, help=WORKERS_HELP),
) -> None:
    """Ingest local files into the store without a manifest (ids come from file names)."""
    from policylens.corpus.add import add_paths
    from policylens.corpus.store import Store

    with Store(store) as db, _progress(not as_json) as progress:
        report = add_paths(paths, db, {"workers": workers}, progress=progress)
    if as_json:
        out.print_json(json.dumps(report.to_dict()))
    else:
        _print_report(report)
    raise typer.Exit(EXIT_OK if not report.failed else EXIT_FAILED)
