"""Engines isolate each item: a failure, even a dead worker, is that item's ``Outcome``, not the run's."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import cloudpickle
import dask
import pytest

from policylens.corpus.engines import DaskEngine, LocalEngine, get_engine
from policylens.errors import UsageError


def _halve(n: int) -> float:
    if n == 0:
        raise UsageError("zero is not allowed")
    return n / 2


def _die_on_two(n: int) -> int:
    if n == 2:
        os._exit(1)  # a worker killed mid-task (out of memory, a crash in a C library)
    return n * 10


def test_local_engine_keeps_order_free_outcomes_and_error_codes() -> None:
    outcomes = {o.item: o for o in LocalEngine(1).map(_halve, [4, 0, 6])}
    assert outcomes[4].value == 2 and outcomes[6].value == 3
    assert not outcomes[0].ok and outcomes[0].error_code == "usage"
    assert "zero" in (outcomes[0].error or "")


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
        # one worker thread runs them in order, so 2 kills the worker after 1 and 3 are done
        outcomes = {o.item: o for o in engine.map(_die_on_two, [1, 3, 2])}
    assert outcomes[1].value == 10 and outcomes[3].value == 30
    assert not outcomes[2].ok and outcomes[2].error_code == "worker"
    assert "KilledWorker" in (outcomes[2].error or "")
