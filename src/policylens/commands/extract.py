"""``policylens extract``: documents → clean text, Markdown or JSON."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import typer
from rich.table import Table
from rich.text import Text

from policylens.atomic import write_text_atomic
from policylens.commands._common import (
    ENGINE_HELP,
    SCHEDULER_HELP,
    TIMEOUT_HELP,
    WORKERS_HELP,
    EngineName,
    ExtractFormat,
    PdfEngineName,
    err,
    exit_code_for,
    expand_inputs,
    handle_errors,
    progress_map,
)
from policylens.corpus.engines import Outcome, get_engine
from policylens.errors import UsageError
from policylens.extract import SUFFIXES, ExtractSettings, extract, extract_bytes, render
from policylens.extract.batch import ExtractJob, ExtractSummary, output_names, run_job
from policylens.extract.render import SUFFIX

log = logging.getLogger(__name__)


@handle_errors
def extract_command(
    paths: list[Path] = typer.Argument(..., help="PDF, .txt, .md or .html files, folders (recursive), "
                                       "or - for stdin (PDF and HTML are recognised by content, "
                                       "anything else is read as plain text)."),
    out: Path | None = typer.Option(None, "--out", "-o",
                                    help="Output file (one input) or folder (one output per input)."),
    fmt: ExtractFormat = typer.Option(ExtractFormat.text, "--format", "-f", help="Output format."),
    pdf_engine: PdfEngineName = typer.Option(PdfEngineName.auto, "--pdf-engine",
                                             help="PDF reader (see docs/extract.md)."),
    password: str | None = typer.Option(None, "--password", help="Password for encrypted PDFs."),
    ocr: bool = typer.Option(False, "--ocr", help="OCR PDFs without a text layer (needs ocrmypdf on PATH)."),
    max_pages: int | None = typer.Option(None, "--max-pages", help="Read at most this many pages per PDF."),
    keep_headers: bool = typer.Option(False, "--keep-headers", help="Keep running headers/footers."),
    keep_hyphens: bool = typer.Option(False, "--keep-hyphens", help="Do not join line-end hyphens."),
    no_tables: bool = typer.Option(False, "--no-tables",
                                   help="Leave ruled PDF tables as text instead of table blocks."),
    workers: int | None = typer.Option(None, "--workers", "-w", help=WORKERS_HELP),
    engine: EngineName = typer.Option(EngineName.local, "--engine", help=ENGINE_HELP),
    scheduler: str | None = typer.Option(None, "--scheduler", help=SCHEDULER_HELP),
    timeout: float | None = typer.Option(None, "--timeout", min=0,
                                         help=TIMEOUT_HELP + " Applies when several files are extracted."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or summary table."),
) -> None:
    """Extract clean, structured text from policy documents.

    One file prints to stdout unless --out is given; several files or a folder
    write <stem>.txt|.md|.json per input into the --out folder, in parallel.
    """
    settings = ExtractSettings(pdf_engine=pdf_engine.value, password=password, ocr=ocr,
                               remove_headers=not keep_headers, repair_hyphens=not keep_hyphens,
                               max_pages=max_pages, tables=not no_tables)
    if any(str(p) == "-" for p in paths):
        if len(paths) > 1:
            raise UsageError("- (stdin) must be the only input")
        _one(None, out, fmt.value, settings)
        return
    files = expand_inputs(paths, SUFFIXES)
    single = len(files) == 1 and not any(p.is_dir() for p in paths)
    if single:
        _one(files[0], out, fmt.value, settings)
        return
    if out is None:
        raise UsageError("several inputs need --out FOLDER for their outputs")
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file; several inputs need a folder")
    out.mkdir(parents=True, exist_ok=True)
    targets = output_names(files, out, fmt.value)
    jobs = [ExtractJob(str(f), str(t), fmt.value, settings) for f, t in zip(files, targets, strict=True)]
    runner = get_engine(engine.value, workers=workers, scheduler=scheduler, timeout=timeout)
    try:
        outcomes = progress_map(runner, run_job, jobs, description="extracting",
                                label=lambda job: Path(job.source).name, quiet=quiet)
    finally:
        runner.close()
    if not quiet:
        _summary(outcomes)
    raise typer.Exit(exit_code_for(outcomes))


def _one(path: Path | None, out: Path | None, fmt: str, settings: ExtractSettings) -> None:
    """One document (``None``: stdin) to stdout, or to ``--out`` (a file, or a folder to put it in)."""
    document = extract_bytes(sys.stdin.buffer.read(), settings) if path is None else extract(path, settings)
    text = render(document, fmt)
    if out is None:
        typer.echo(text, nl=False)
    else:
        stem = "stdin" if path is None else path.stem
        target = out / f"{stem}{SUFFIX[fmt]}" if out.is_dir() or str(out).endswith("/") else out
        write_text_atomic(target, text)
    if document.quality.verdict != "good":
        log.warning("%s: quality %s: %s", document.source, document.quality.verdict,
                    "; ".join(document.quality.issues))


def _summary(outcomes: list[Outcome[ExtractSummary]]) -> None:
    table = Table(title="extract", show_lines=False)
    for name, justify in (("file", "left"), ("status", "left"), ("pages", "right"),
                          ("seconds", "right"), ("quality / reason", "left")):
        table.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for outcome in outcomes:
        job: ExtractJob = outcome.item
        name = Path(job.source).name
        if outcome.ok and outcome.value is not None:
            s = outcome.value
            detail = s.verdict + (f": {'; '.join(s.issues)}" if s.issues else "")
            table.add_row(Text(name), "ok", str(s.n_pages), f"{outcome.seconds:.2f}", Text(detail))
        else:
            table.add_row(Text(name), "[red]failed[/]", "", f"{outcome.seconds:.2f}",
                          Text(f"{outcome.error_code}: {outcome.error}"))
    err.print(table)
    failed = sum(1 for o in outcomes if not o.ok)
    err.print(f"{len(outcomes) - failed} ok, {failed} failed", markup=False, highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``extract`` to the policylens app."""
    app.command("extract")(extract_command)
