"""CLI commands of the rank stage: ``policylens rank`` and ``policylens diff``."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import typer
from rich.table import Table
from rich.text import Text

from policylens.commands._common import (
    ENGINE_HELP,
    EXIT_OK,
    LABEL_STYLE,
    SCHEDULER_HELP,
    TIMEOUT_HELP,
    WORKERS_HELP,
    DiffFormat,
    EngineName,
    RankFormat,
    Scope,
    err,
    exit_code_for,
    expand_inputs,
    handle_errors,
    out,
    print_failure,
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
    fmt: RankFormat = typer.Option(RankFormat.table, "--format", "-f", help="Output format."),
    report: Path | None = typer.Option(None, "--report", help="Also write an HTML report to this file."),
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
) -> None:
    """Rank frameworks from most centralized (+1) to most sector-specific (-1).

    Each document is extracted, tagged and scored in parallel; one unreadable file,
    or one that runs past --timeout, is reported on stderr and the others are still
    ranked (exit code 1).

    Example: policylens rank corpora/samples --report report.html
    """
    from policylens.rank import rank
    from policylens.rank.scoring import check_method

    method = check_method(method)
    if store is not None:
        if paths:
            raise UsageError("give either documents or --store, not both")
        if report is not None:
            _check_report_path(report)
        from policylens.corpus.store import Store

        with Store(store, create=False) as opened:  # ranking only reads: never create a store here
            ranked = rank(opened.latest_scores())
            # The store keeps every sentence, so the report needs no re-processing either.
            tagged = ({s.doc: opened.tagged(s.extra["id"], model_version=s.model_version or None)
                       for s in ranked} if report is not None else {})
        _print_scores(ranked, fmt)
        if report is not None and ranked:
            _write_report(report, ranked, tagged)
        raise typer.Exit(EXIT_OK)
    if not paths:
        raise UsageError("give at least one file or folder (or --store PATH)")
    if report is not None:
        _check_report_path(report)

    from policylens.corpus.engines import get_engine
    from policylens.rank.analysis import analyze, warm

    files = expand_inputs(paths, SUFFIXES)
    if scope is not None and len(files) != 1:
        raise UsageError("--scope is for a single document; in a corpus manifest give each document "
                         "its own scope = \"...\"")
    work = functools.partial(analyze, password=password, method=method,
                             scope=scope.value if scope is not None else None)
    runner = get_engine(engine.value, workers=workers, scheduler=scheduler, timeout=timeout, warm=warm)
    try:
        outcomes = progress_map(runner, work, files, description="ranking", label=lambda p: p.name)
    finally:
        runner.close()
    failed = [o for o in outcomes if not o.ok]
    for outcome in failed:
        print_failure(outcome.item, outcome)
    analyses = [o.value for o in outcomes if o.ok and o.value is not None]
    ranked = rank(a.score for a in analyses)
    if ranked or fmt != "table":  # JSON and CSV stay parseable when every input failed: [] or a header
        _print_scores(ranked, fmt)
    if report is not None and ranked:
        _write_report(report, ranked, {a.score.doc: a.tagged for a in analyses})
    if failed:
        err.print(f"{len(failed)} of {len(files)} documents failed; {len(ranked)} ranked.")
    raise typer.Exit(exit_code_for(outcomes))


def _check_report_path(report: Path) -> None:
    """Fail before the work, not after it."""
    if report.suffix.lower() not in (".html", ".htm"):
        raise UsageError(f"--report writes HTML: give a .html file name, not {report.name}")


def _write_report(path: Path, ranked: Sequence[Any], tagged: dict[str, Any]) -> None:
    from policylens.report.html import write_report

    write_report(path, ranked, tagged, title="policylens ranking")
    err.print(f"report written to {path}", markup=False)


def _print_scores(ranked: Sequence[Any], fmt: str) -> None:
    from policylens.rank.export import to_csv, to_json

    if fmt == "json":
        out.print(to_json(ranked), markup=False, highlight=False)
    elif fmt == "csv":
        out.file.write(to_csv(ranked))
        out.file.flush()
    else:
        out.print(score_table(ranked))


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
        document = Text(Path(s.doc).name)
        document.append(f"\nscope: {scope}", style="dim")
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
    result = diff(analyze(old, password=password).tagged, analyze(new, password=password).tagged)
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
    page = lambda p: "" if p is None else str(p)  # noqa: E731
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
