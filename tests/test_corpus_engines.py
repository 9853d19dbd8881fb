"""Engines isolate each item: a failure, even a dead worker, is that item's ``Outcome``, not the run's."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import cloudpickle
import dask
import pytest

from policylens.corpus.engines import IN_FLIGHT_PER_WORKER, DaskEngine, LocalEngine, get_engine
from policylens.errors import UsageError


def _halve(n: int) -> float:
    if n == 0:
        raise UsageError("zero is not allowed")
    return n / 2


def _die_on_two(n: int) -> int:
    if n == 2:
        os._exit(1)  # a worker killed mid-task (out of memory, a crash in a C library)
    return n * 10


def _killed_on_three(n: int) -> int:
    if n == 3:
        os.kill(os.getpid(), signal.SIGKILL)  # what the OOM killer does to a worker
    time.sleep(0.2)  # keep the other workers busy when it happens
    return n * 10


def _crash_on_odd_tens(n: int) -> int:
    if n in (10, 30):
        os._exit(139)  # as a segfault in a C library would end the worker
    time.sleep(0.05)
    return n


def _always_crash(n: int) -> int:
    os._exit(1)


def _hang_on_two(job: tuple[int, str]) -> int:
    n, pid_file = job
    if n == 2:
        with open(pid_file, "w") as f:
            f.write(str(os.getpid()))
        while True:  # stuck for good (a parser in a loop); only killing the process ends it
            time.sleep(0.05)
    return n * 10


def _mark_started(job: tuple[int, str]) -> int:
    n, folder = job
    Path(folder, f"started-{n}").touch()
    return n


def _by_item(outcomes: Iterator) -> dict:
    found: dict = {}
    for outcome in outcomes:
        assert outcome.item not in found, f"{outcome.item} reported twice"
        found[outcome.item] = outcome
    return found


@pytest.mark.timeout(120)
def test_local_worker_death_fails_only_its_document_and_reruns_the_rest() -> None:
    # regression: a dead worker broke the pool and every pending document was marked failed
    outcomes = _by_item(LocalEngine(3).map(_killed_on_three, list(range(8))))
    assert sorted(outcomes) == list(range(8))
    assert {n: o.value for n, o in outcomes.items() if n != 3} == {n: n * 10 for n in range(8) if n != 3}
    assert not outcomes[3].ok and outcomes[3].error_code == "worker"
    assert "died while processing this document" in (outcomes[3].error or "")


@pytest.mark.timeout(120)
def test_local_documents_that_crash_every_time_fail_without_looping() -> None:
    items = [0, 10, 20, 30, 40, 50, 60, 70, 80]
    outcomes = _by_item(LocalEngine(4).map(_crash_on_odd_tens, items))
    assert sorted(outcomes) == items
    assert {n for n, o in outcomes.items() if not o.ok} == {10, 30}
    assert all(o.error_code == "worker" for o in outcomes.values() if not o.ok)
    assert all(o.value == n for n, o in outcomes.items() if o.ok)

    every = _by_item(LocalEngine(2).map(_always_crash, [1, 2, 3]))
    assert sorted(every) == [1, 2, 3] and all(o.error_code == "worker" for o in every.values())


@pytest.mark.timeout(120)
def test_local_engine_feeds_a_few_items_per_worker_not_the_whole_folder(tmp_path: Path) -> None:
    # regression: every item was queued at once, so a slow reader (a parent writing each result
    # to a store) let the workers run ahead and pile up every result in memory; now a window of
    # IN_FLIGHT_PER_WORKER per worker
    jobs = [(n, str(tmp_path)) for n in range(40)]
    window = 2 * IN_FLIGHT_PER_WORKER
    seen = []
    for received, outcome in enumerate(LocalEngine(2).map(_mark_started, jobs), start=1):
        time.sleep(0.05)  # a slow consumer: the workers would race ahead if they could
        started = len(list(tmp_path.glob("started-*")))
        # an item is only queued once an earlier result is being handed over
        assert started <= window + received, (received, started)
        seen.append(outcome.value)
    assert sorted(seen) == list(range(40))


def test_local_engine_keeps_order_free_outcomes_and_error_codes() -> None:
    outcomes = {o.item: o for o in LocalEngine(1).map(_halve, [4, 0, 6])}
    assert outcomes[4].value == 2 and outcomes[6].value == 3
    assert not outcomes[0].ok and outcomes[0].error_code == "usage"
    assert "zero" in (outcomes[0].error or "")


@pytest.mark.timeout(120)
@pytest.mark.parametrize("workers", [1, 2])
def test_local_stuck_document_times_out_its_worker_is_replaced_and_the_rest_run(workers: int,
                                                                                 tmp_path: Path) -> None:
    pid_file = str(tmp_path / "stuck.pid")
    jobs = [(n, pid_file) for n in range(6)]
    outcomes = _by_item(LocalEngine(workers, timeout=1.5).map(_hang_on_two, jobs))
    assert sorted(n for n, _ in outcomes) == list(range(6))
    assert {n: o.value for (n, _), o in outcomes.items() if n != 2} == {0: 0, 1: 10, 3: 30, 4: 40, 5: 50}
    stuck = outcomes[(2, pid_file)]
    assert not stuck.ok and stuck.error_code == "timeout"
    assert "time limit of 1.5 s" in (stuck.error or "")
    pid = int(Path(pid_file).read_text())
    with pytest.raises(ProcessLookupError):  # the stuck worker was killed, not left behind
        os.kill(pid, 0)


def test_time_limits_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    assert LocalEngine(1, timeout=0).timeout is None
    with pytest.raises(UsageError, match="--timeout must be a positive number"):
        LocalEngine(1, timeout=-1)
    monkeypatch.setenv("POLICYLENS_DOC_TIMEOUT", "12")
    assert get_engine("local").timeout == 12  # what corpus refresh uses
    monkeypatch.setenv("POLICYLENS_DOC_TIMEOUT", "soon")
    with pytest.raises(UsageError, match="POLICYLENS_DOC_TIMEOUT must be a number"):
        get_engine("local")


def test_engine_names_are_checked() -> None:
    with pytest.raises(UsageError, match="unknown engine"):
        get_engine("spark")
    with pytest.raises(UsageError, match="--scheduler goes with --engine dask"):
        get_engine("local", scheduler="tcp://127.0.0.1:1")


@pytest.fixture(scope="module")
def process_cluster() -> Iterator[str]:
    from distributed import LocalCluster

    # the functions above travel by value: a worker process cannot import this test module
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}), \
            LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                         dashboard_address=None) as cluster:
        yield cluster.scheduler_address
    cloudpickle.unregister_pickle_by_value(sys.modules[__name__])


def test_dask_worker_death_fails_only_its_item_not_the_run(process_cluster: str) -> None:
    with DaskEngine(process_cluster) as engine:
        # tasks queued on the worker when 2 kills it fail with it; they are re-run alone
        outcomes = {o.item: o for o in engine.map(_die_on_two, [1, 3, 2, 4, 5])}
    assert {n: o.value for n, o in outcomes.items() if n != 2} == {1: 10, 3: 30, 4: 40, 5: 50}
    assert not outcomes[2].ok and outcomes[2].error_code == "worker"
    assert "KilledWorker" in (outcomes[2].error or "")


def _double(n: int) -> int:
    return n * 2


@pytest.mark.timeout(180)
@pytest.mark.parametrize("workers", [1, 2])
def test_local_engine_reads_a_lazy_source_and_hands_back_outcomes_before_it_ends(workers: int) -> None:
    # regression: the engine read every item before starting, so a refresh could not process
    # the documents already downloaded while others were still downloading
    events: list[str] = []
    first_outcome = threading.Event()

    def source() -> Iterator[int]:
        yield from range(4)
        events.append("source waits")
        first_outcome.wait(timeout=60)  # the next item "downloads" only once an outcome came back
        events.append("source resumes")
        yield from range(4, 6)

    outcomes = {}
    for outcome in LocalEngine(workers, timeout=60).map(_double, source()):
        events.append(f"outcome {outcome.item}")
        outcomes[outcome.item] = outcome.value
        first_outcome.set()
    assert outcomes == {n: n * 2 for n in range(6)}
    resumed = events.index("source resumes")
    assert any(e.startswith("outcome") for e in events[:resumed]), events


def _fails_on_three() -> Iterator[int]:
    yield from range(3)
    raise OSError("the source broke")


def test_local_engine_raises_a_failing_source_after_the_outcomes_before_it() -> None:
    seen = []
    with pytest.raises(OSError, match="the source broke"):
        for outcome in LocalEngine(2, timeout=60).map(_double, _fails_on_three()):
            seen.append(outcome.item)
    assert sorted(seen) == [0, 1, 2]


def _queued_or_running(dask_scheduler) -> int:  # type: ignore[no-untyped-def]
    return sum(1 for task in dask_scheduler.tasks.values()
               if task.state in ("released", "waiting", "queued", "processing", "no-worker"))


def test_dask_engine_keeps_a_bounded_number_of_tasks_on_the_scheduler(process_cluster: str) -> None:
    # regression: a folder of 1,000 documents was 1,000 tasks (and results) on the scheduler at once
    items = list(range(30))
    with DaskEngine(process_cluster) as engine:
        window = max(2, engine._threads()) * IN_FLIGHT_PER_WORKER
        values = []
        for outcome in engine.map(_halve, items):
            assert engine.client.run_on_scheduler(_queued_or_running) <= window
            values.append(outcome.value if outcome.ok else outcome.error_code)
    assert sorted(v for v in values if v != "usage") == [n / 2 for n in items if n]
    assert values.count("usage") == 1  # 0 failed on its own, with its error code


def _payload_size(item: bytes) -> int:
    return len(item)


def _largest_task_spec(dask_scheduler) -> int:  # type: ignore[no-untyped-def]
    """Pickled size of the biggest task *definition* the scheduler holds (data it only knows of
    as a key on a worker, such as a scattered item, has no definition here)."""
    sizes = [len(cloudpickle.dumps(task.run_spec)) for task in dask_scheduler.tasks.values()
             if task.run_spec is not None]
    return max(sizes, default=0)


@pytest.mark.parametrize("scatter", [True, False])
def test_scattered_items_stay_out_of_the_task_graph(process_cluster: str, scatter: bool) -> None:
    # what a refresh on a remote cluster sends: documents' bytes, here 2 MB each
    items = [bytes([n]) * 2_000_000 for n in range(4)]
    largest: list[int] = []
    with DaskEngine(process_cluster, scatter=scatter) as engine:
        sizes = []
        for outcome in engine.map(_payload_size, items):
            largest.append(engine.client.run_on_scheduler(_largest_task_spec))
            sizes.append(outcome.value)
    assert sizes == [2_000_000] * 4
    if scatter:
        assert max(largest) < 100_000  # a function and a key, not the bytes
    else:  # the control: without scatter the bytes are in the task itself
        assert max(largest) > 1_000_000
