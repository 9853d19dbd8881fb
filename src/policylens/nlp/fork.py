"""Tagging one long document on several cores: forked workers share its batches of blocks.

The pipeline is loaded once; ``os.fork`` (through multiprocessing's fork context) gives
each worker a copy-on-write copy of it, so a worker starts in milliseconds. The document
is cut into chunks of one batch each; this process claims chunks from the front and the
workers from the back, until they meet, so a worker on a busy core simply takes fewer.
A worker returns its sentences as JSON over a pipe (never pickle), with every
probability at full precision so that the parent's scope decision and labels are
exactly those of a single-process run. A worker that fails costs only time: the chunks
it did not return are tagged in the parent.
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


def encode(sentences: Sequence[TaggedSentence]) -> bytes:
    """Sentences as JSON with every field a ``TaggedSentence`` holds (``to_dict`` rounds
    probabilities and drops cue offsets; this does not)."""
    return json.dumps(_rows(sentences), ensure_ascii=False).encode("utf-8")


def decode(data: bytes) -> list[TaggedSentence]:
    """The inverse of ``encode`` (floats round-trip exactly through ``repr``)."""
    return _from_rows(json.loads(data))


def _rows(sentences: Sequence[TaggedSentence]) -> list[Any]:
    return [[s.doc, s.sentence_id, s.text, s.label, dict(s.probs),
             [[c.text, c.approach, c.negated, c.start, c.end] for c in s.cues],
             [list(s.facets.sector), list(s.facets.level), list(s.facets.instrument), list(s.facets.style)],
             s.page, s.section, s.role, dict(s.role_probs), None if s.content is None else dict(s.content)]
            for s in sentences]


def _from_rows(rows: list[Any]) -> list[TaggedSentence]:
    out: list[TaggedSentence] = []
    for (doc, sid, text, label, probs, cues, facets, page, section, role, role_probs,
         content) in rows:
        out.append(TaggedSentence(
            doc=doc, sentence_id=sid, text=text, label=label, probs=probs,
            cues=tuple(Cue(text=t, approach=a, negated=n, start=s, end=e) for t, a, n, s, e in cues),
            facets=Facets(*(tuple(f) for f in facets)), page=page, section=section, role=role,
            role_probs=role_probs, content=content))
    return out


def _claim(bounds: Any, *, front: bool) -> int | None:
    """The next unclaimed chunk from the front or the back of ``bounds`` ([next front, next back])."""
    with bounds.get_lock():
        low, high = bounds[0], bounds[1]
        if low > high:
            return None
        if front:
            bounds[0] = low + 1
            return int(low)
        bounds[1] = high - 1
        return int(high)


def _work(writer: Connection, bounds: Any, job: Callable[[int], list[TaggedSentence]]) -> None:
    """A worker's body: tag chunks claimed from the back, send ``[[chunk, rows], ...]``; on any
    failure exit quietly (the parent tags what it did not get)."""
    try:
        done: list[Any] = []
        while (chunk := _claim(bounds, front=False)) is not None:
            done.append([chunk, _rows(job(chunk))])
        writer.send_bytes(json.dumps(done, ensure_ascii=False).encode("utf-8"))
    except Exception as exc:  # any failure: the parent tags these chunks again, nothing is lost
        log.debug("tagging worker failed: %s", exc)
        os._exit(1)
    finally:
        writer.close()


def run_chunks(n_chunks: int, job: Callable[[int], list[TaggedSentence]], *,
               workers: int) -> list[list[TaggedSentence]]:
    """``job(i)`` for every chunk ``i``, in order: this process claims chunks from the front,
    ``workers - 1`` forked workers from the back (chunks they do not return are tagged here)."""
    if workers < 2 or n_chunks < 2 or not can_fork():
        return [job(i) for i in range(n_chunks)]
    context = multiprocessing.get_context("fork")
    bounds = context.Array("i", [0, n_chunks - 1])
    sys.stdout.flush()  # a worker must not write the parent's buffered output a second time
    sys.stderr.flush()
    # Frozen objects are never visited by a worker's garbage collector, so the worker does not
    # write to (and copy) the pages of the loaded pipeline it shares with this process. A
    # caller that froze its objects already (the CLI) keeps them frozen.
    thaw = gc.get_freeze_count() == 0
    gc.freeze()
    started: list[tuple[Any, Connection]] = []
    try:
        for _ in range(min(workers, n_chunks) - 1):
            reader, writer = context.Pipe(duplex=False)
            process = context.Process(target=_work, args=(writer, bounds, job), daemon=True)
            process.start()
            writer.close()
            started.append((process, reader))
    finally:
        if thaw:
            gc.unfreeze()
    results: dict[int, list[TaggedSentence]] = {}
    while (chunk := _claim(bounds, front=True)) is not None:
        results[chunk] = job(chunk)
    for process, reader in started:
        try:
            data = reader.recv_bytes()
            results.update((int(chunk), _from_rows(rows)) for chunk, rows in json.loads(data))
        except (EOFError, OSError):
            pass
        finally:
            reader.close()
        process.join()
        if process.exitcode != 0:
            log.info("a tagging worker failed (exit code %s); tagging its chunks here", process.exitcode)
    return [results[i] if i in results else job(i) for i in range(n_chunks)]
