"""Tagging one long document on several cores: forked workers tag later parts of its blocks.

The pipeline is loaded once; ``os.fork`` (through multiprocessing's fork context) gives
each worker a copy-on-write copy of it, so a worker starts in milliseconds. A worker
returns its sentences as JSON over a pipe (never pickle), with every probability at
full precision so that the parent's scope decision and labels are exactly those of a
single-process run. A worker that fails or returns nothing costs only time: its part
is tagged again in the parent.
"""

from __future__ import annotations

import gc
import json
import logging
import multiprocessing
import os
import sys
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from typing import Any

from policylens.nlp.types import Cue, Facets, TaggedSentence

log = logging.getLogger(__name__)


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the platform has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def split_points(sizes: Sequence[int], parts: int, *, step: int) -> list[int]:
    """Indexes cutting ``sizes`` into up to ``parts`` runs of about equal total size, each cut
    a multiple of ``step`` (so every part sees the same batches as an unsplit run)."""
    prefix = [0]
    for size in sizes:
        prefix.append(prefix[-1] + size)
    candidates = range(step, len(sizes), step)
    cuts: list[int] = []
    for k in range(1, parts):
        target = prefix[-1] * k / parts
        best = min(candidates, key=lambda m: abs(prefix[m] - target), default=0)
        if best > (cuts[-1] if cuts else 0):
            cuts.append(best)
    return cuts


def encode(sentences: Sequence[TaggedSentence]) -> bytes:
    """Sentences as JSON with every field a ``TaggedSentence`` holds (``to_dict`` rounds
    probabilities and drops cue offsets; this does not)."""
    rows = [[s.doc, s.sentence_id, s.text, s.label, dict(s.probs),
             [[c.text, c.approach, c.negated, c.start, c.end] for c in s.cues],
             [list(s.facets.sector), list(s.facets.level), list(s.facets.instrument), list(s.facets.style)],
             s.page, s.section, s.role, dict(s.role_probs), None if s.content is None else dict(s.content)]
            for s in sentences]
    return json.dumps(rows, ensure_ascii=False).encode("utf-8")


def decode(data: bytes) -> list[TaggedSentence]:
    """The inverse of ``encode`` (floats round-trip exactly through ``repr``)."""
    out: list[TaggedSentence] = []
    for (doc, sid, text, label, probs, cues, facets, page, section, role, role_probs,
         content) in json.loads(data):
        out.append(TaggedSentence(
            doc=doc, sentence_id=sid, text=text, label=label, probs=probs,
            cues=tuple(Cue(text=t, approach=a, negated=n, start=s, end=e) for t, a, n, s, e in cues),
            facets=Facets(*(tuple(f) for f in facets)), page=page, section=section, role=role,
            role_probs=role_probs, content=content))
    return out


def _work(writer: Connection, job: Callable[[], list[TaggedSentence]]) -> None:
    """A worker's body: run ``job``, send its sentences, exit quietly on failure."""
    try:
        writer.send_bytes(encode(job()))
    except Exception as exc:  # any failure: the parent tags this part again, nothing is lost
        log.debug("tagging worker failed: %s", exc)
        os._exit(1)
    finally:
        writer.close()


def run_parts(jobs: Sequence[Callable[[], list[TaggedSentence]]]) -> list[list[TaggedSentence]]:
    """Each job's sentences, in order: the first in this process, the others in forked workers
    (run here instead when a worker fails)."""
    if len(jobs) == 1 or not can_fork():
        return [job() for job in jobs]
    context = multiprocessing.get_context("fork")
    sys.stdout.flush()  # a worker must not write the parent's buffered output a second time
    sys.stderr.flush()
    # Frozen objects are never visited by a worker's garbage collector, so the worker does not
    # write to (and copy) the pages of the loaded pipeline it shares with this process. A
    # caller that froze its objects already (the CLI) keeps them frozen.
    thaw = gc.get_freeze_count() == 0
    gc.freeze()
    workers: list[tuple[Any, Connection]] = []
    try:
        for job in jobs[1:]:
            reader, writer = context.Pipe(duplex=False)
            process = context.Process(target=_work, args=(writer, job), daemon=True)
            process.start()
            writer.close()
            workers.append((process, reader))
    finally:
        if thaw:
            gc.unfreeze()
    results = [jobs[0]()]
    for job, (process, reader) in zip(jobs[1:], workers, strict=True):
        data: bytes | None
        try:
            data = reader.recv_bytes()
        except (EOFError, OSError):
            data = None
        finally:
            reader.close()
        process.join()
        if data is None or process.exitcode != 0:
            log.info("a tagging worker failed (exit code %s); tagging its part here", process.exitcode)
            results.append(job())
        else:
            results.append(decode(data))
    return results
