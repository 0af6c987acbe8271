"""Where a refresh fits its series: this process, a local process pool, or a Dask cluster.

Every executor runs the same function on the same picklable tasks and yields the results as
they finish; the caller writes them, so the stored forecasts do not depend on the executor.

- pool (default): `workers` forked processes on this machine (one: this process);
- dask: a Dask distributed cluster, the one whose scheduler answers at `scheduler`
  (tcp://host:8786), or a LocalCluster of `workers` processes on 127.0.0.1. A worker that dies
  mid-task has its tasks rescheduled by the scheduler on the others (up to Dask's
  `distributed.scheduler.allowed-failures`, 3 by default).
"""

import logging
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager

from distributed.diagnostics.plugin import WorkerPlugin

EXECUTORS = ("pool", "dask")
CONNECT_TIMEOUT = "5s"  # how long a named Dask scheduler may take to answer


class ExecutorError(RuntimeError):
    """The executor cannot start (e.g. the scheduler does not answer); the message is one line."""


Runner = Callable[[Callable, Iterable], Iterator]


@contextmanager
def open_executor(
    kind: str,
    workers: int,
    scheduler: str | None = None,
    initializer: Callable | None = None,
    initargs: tuple = (),
    own_sessions: bool = False,
) -> Iterator[Runner]:
    """A `run(function, items)` that yields function(item) for every item, in completion order.

    `initializer(*initargs)` runs once in each worker process (pool) or before each task on a
    Dask worker (it must be idempotent and cheap). `own_sessions`: the workers of a local Dask
    cluster each start their own session (the pool's initializer does that for its workers).
    """
    if kind not in EXECUTORS:
        raise ExecutorError(f"unknown executor {kind!r}; known: {', '.join(EXECUTORS)}")
    if kind == "dask":
        with _dask_client(workers, scheduler, own_sessions) as client:
            yield lambda function, items: _run_dask(client, function, list(items), initializer, initargs)
        return
    if scheduler:
        raise ExecutorError("--scheduler needs --executor dask")
    yield lambda function, items: _run_pool(function, list(items), workers, initializer, initargs)


def _run_pool(function, items, workers, initializer, initargs):
    if workers <= 1 or len(items) <= 1:
        for item in items:
            yield function(item)
        return
    # fork: the workers start with the libraries imported, and never touch the database handles
    # they inherit (only the caller reads and writes). spawn and forkserver would re-run the
    # caller's __main__ in every worker, which under Streamlit or AppTest is the app script.
    # The refresh runs the pool from the command line, the benchmark and tests; a page's refit
    # of one series runs without a pool (workers=1), so no Streamlit server threads are forked.
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=initializer, initargs=initargs
    ) as pool:
        futures = [pool.submit(function, item) for item in items]
        try:
            for future in as_completed(futures):
                yield future.result()
        except BaseException:
            for future in futures:
                future.cancel()
            raise


def local_cluster(workers: int, own_sessions: bool = False):
    """A Dask LocalCluster of `workers` single-threaded processes on 127.0.0.1, and its client.

    own_sessions: each worker process (also one restarted after a crash) calls setsid, as the
    pool's `--own-sessions` workers do: with Linux autogroup scheduling the processes of one
    session share one fair slice of the CPU, so on a busy machine workers left in the job's
    session get one core's worth between them.
    """
    from distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    client = Client(cluster)
    if own_sessions:
        client.register_plugin(_OwnSession())
    return cluster, client


class _OwnSession(WorkerPlugin):
    """Puts each Dask worker process in its own session (see `local_cluster`)."""

    def setup(self, worker):
        try:
            os.setsid()
        except OSError:  # already a session or group leader
            pass


@contextmanager
def _dask_client(workers: int, scheduler: str | None, own_sessions: bool = False):
    from distributed import Client

    if scheduler:
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError, ValueError) as exc:
            detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ExecutorError(f"the Dask scheduler at {scheduler} does not answer ({detail})") from None
        try:
            yield client
        finally:
            client.close()
        return
    cluster, client = local_cluster(workers, own_sessions)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def _run_dask(client, function, items, initializer, initargs):
    from distributed import as_completed as dask_completed

    futures = client.map(
        _initialized, [function] * len(items), items, pure=False, initializer=initializer, initargs=initargs
    )
    try:
        for future in dask_completed(futures):
            yield future.result()
    except BaseException:
        client.cancel(futures)
        raise


def _initialized(function, item, initializer=None, initargs=()):
    if initializer:
        initializer(*initargs)
    return function(item)
