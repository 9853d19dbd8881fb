"""Folder runs: one picklable job per input, run in worker processes or on Dask.

A worker extracts its document and writes the rendered output itself, so only
a small ``ExtractSummary`` travels back to the parent process.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from policylens.atomic import write_text_atomic
from policylens.extract.reader import extract
from policylens.extract.render import SUFFIX, render
from policylens.extract.settings import ExtractSettings


@dataclass(frozen=True, slots=True)
class ExtractJob:
    source: str
    target: str
    fmt: str
    settings: ExtractSettings


@dataclass(frozen=True, slots=True)
class ExtractSummary:
    source: str
    target: str
    title: str
    n_pages: int
    n_blocks: int
    verdict: str
    issues: tuple[str, ...]


def output_names(sources: Sequence[Path], out_dir: Path, fmt: str) -> list[Path]:
    """``<stem>.<ext>`` per input; a clashing stem gets its suffix, then a counter: ``a-txt.json``."""
    ext = SUFFIX[fmt]
    used: set[str] = set()
    names: list[Path] = []
    for source in sources:
        candidates = [source.stem, f"{source.stem}-{source.suffix.lstrip('.').lower() or 'file'}"]
        name = next((c for c in candidates if c.lower() not in used), None)
        counter = 2
        while name is None:
            candidate = f"{source.stem}-{counter}"
            name = candidate if candidate.lower() not in used else None
            counter += 1
        used.add(name.lower())
        names.append(out_dir / f"{name}{ext}")
    return names


def run_job(job: ExtractJob) -> ExtractSummary:
    """Extract one input and write its output (the unit of work of a folder run)."""
    document = extract(job.source, job.settings)
    write_text_atomic(job.target, render(document, job.fmt))
    return ExtractSummary(source=job.source, target=job.target, title=document.title,
                          n_pages=document.n_pages, n_blocks=len(document.blocks),
                          verdict=document.quality.verdict, issues=document.quality.issues)
