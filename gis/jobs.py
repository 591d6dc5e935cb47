"""Background jobs, on procrastinate in the project's own PostgreSQL (its tables are made by
migration 0012): the scheduler, the queue and the workers that keep the service's promises
without anyone running a command.

    app = make_app(settings)              # a worker, or a process that defers jobs
    await defer_in(conn, "notify.deliver", {"notification_id": 7})   # in the caller's transaction

Why procrastinate: jobs live in PostgreSQL (nothing more to run or back up), it speaks
psycopg 3 as we do, its periodic tasks are deferred once per tick however many workers run
(a unique row per task and tick), workers fetch with `FOR UPDATE SKIP LOCKED` so two never take
the same job, retries wait longer each time, and a dead worker's jobs are found by heartbeat.

`defer_in` writes a job with the caller's connection, so a change and the job it causes commit
or roll back together (the outbox of gis/notify.py relies on this); it calls procrastinate's
SQL function for deferring, the same one its Python client calls (pinned in constraints.txt;
tests/test_jobs.py fails if a new version changes it).

Periodic tasks (cron in UTC):
- `autoclose` every 5 minutes: appeals on check past the author's confirmation period close;
- `purge` daily: the retention periods (sessions, tokens, authors' data);
- `retry_stalled` every 15 seconds (cron's sixth field): jobs of a worker that stopped sending heartbeats run again;
- `forget_old_jobs` daily: finished jobs are kept 3 days (what ran, when, how it ended), then
  deleted; failed ones stay until someone looks.
Other modules add theirs to `tasks` (notifications, dispatch, permit notices) when imported
by `make_app`.

Every task takes "now" from gis/clock.py, so a test moves time for it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import procrastinate
import psycopg

from gis import clock
from gis.settings import Settings

log = logging.getLogger("hromada.jobs")

tasks = procrastinate.Blueprint()

# The settings of the process that runs the tasks (make_app sets them).
_settings: Settings | None = None


def settings() -> Settings:
    if _settings is None:
        raise RuntimeError("gis.jobs.make_app(settings) was not called in this process")
    return _settings


def make_app(app_settings: Settings, url: str) -> procrastinate.App:
    """The procrastinate app over the service's database, with every task registered."""
    global _settings
    _settings = app_settings
    clock.configure(app_settings.clock_shift_seconds)
    from gis.db import libpq_url

    _import_task_modules()
    app = procrastinate.App(
        connector=procrastinate.PsycopgConnector(
            conninfo=libpq_url(url),
            min_size=1,
            max_size=4,
            timeout=app_settings.worker_pool_timeout_seconds,
        )
    )
    app.add_tasks_from(tasks, namespace="")
    return app


def _import_task_modules() -> None:
    """Modules that define tasks on `tasks` (each import registers them once)."""
    import importlib

    for name in TASK_MODULES:
        importlib.import_module(name)


TASK_MODULES: list[str] = ["gis.notify", "gis.dispatch"]


@asynccontextmanager
async def connect() -> AsyncIterator[psycopg.AsyncConnection]:
    """A connection for one task (autocommit: the task opens its own transactions)."""
    from gis.db import database_url, libpq_url

    url = libpq_url(database_url(settings(), start_embedded=False))
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        yield conn


async def defer_in(conn: psycopg.AsyncConnection, task_name: str, args: dict[str, Any], *,
                   queue: str = "default", lock: str | None = None,
                   queueing_lock: str | None = None,
                   scheduled_at: Any = None) -> int:  # fmt: skip
    """Defer a job with `conn`, inside its current transaction: the job exists if and only
    if the transaction commits. Its id."""
    cur = await conn.execute(
        "SELECT unnest(procrastinate_defer_jobs_v1(ARRAY[ROW(%s, %s, 0, %s, %s, %s::jsonb,"
        " %s::timestamptz)]::procrastinate_job_to_defer_v1[]))",
        (queue, task_name, lock, queueing_lock, json.dumps(args), scheduled_at),
    )
    row = await cur.fetchone()
    assert row is not None  # one job in, one id out
    return int(row[0])


# --- the periodic tasks of the lifecycle and of retention ------------------------------------


@tasks.periodic(cron="*/5 * * * *", periodic_id="autoclose")
@tasks.task(name="lifecycle.autoclose", queue="periodic", pass_context=False)
async def autoclose(timestamp: int) -> int:
    """Close the appeals whose author did not confirm the answer in time (art. 1551 rules)."""
    from gis.lifecycle import autoclose as close_overdue

    conf = settings()
    async with connect() as conn:
        closed = await close_overdue(conn, days=conf.appeal_confirm_days, now=clock.now(),
                                     settings=conf)  # fmt: skip
    if closed:
        log.info("autoclose: %d appeals closed", len(closed))
    return len(closed)


@tasks.periodic(cron="30 1 * * *", periodic_id="purge")
@tasks.task(name="retention.purge", queue="periodic", pass_context=False)
async def purge(timestamp: int) -> dict:
    """Apply the retention periods (gis/accounts.purge_expired)."""
    from gis.accounts import purge_expired

    conf = settings()
    async with connect() as conn:
        async with conn.transaction():
            counts = await purge_expired(
                conn, personal_data_retention_days=conf.personal_data_retention_days,
                now=clock.now(),
            )  # fmt: skip
    log.info("purge: %s", counts)
    return counts


@tasks.periodic(cron="* * * * * */15", periodic_id="retry_stalled")
@tasks.task(name="jobs.retry_stalled", queue="periodic", pass_context=True)
async def retry_stalled(context: procrastinate.JobContext, timestamp: int) -> int:
    """Run again the jobs whose worker died (no heartbeat for worker_stalled_after_seconds)."""
    manager = context.app.job_manager
    stalled = list(
        await manager.get_stalled_jobs(
            seconds_since_heartbeat=settings().worker_stalled_after_seconds
        )
    )
    for job in stalled:
        log.warning("job %s (%s) of a stalled worker runs again", job.id, job.task_name)
        await manager.retry_job(job)
    return len(stalled)


@tasks.periodic(cron="10 2 * * *", periodic_id="forget_old_jobs")
@tasks.task(name="jobs.forget_old_jobs", queue="periodic", pass_context=True)
async def forget_old_jobs(context: procrastinate.JobContext, timestamp: int) -> None:
    await context.app.job_manager.delete_old_jobs(nb_hours=KEEP_JOBS_HOURS)


KEEP_JOBS_HOURS = 72


@tasks.periodic(cron="20 3 * * *", periodic_id="partitions")
@tasks.task(name="partitions.ensure", queue="periodic", pass_context=False)
async def ensure_partitions(timestamp: int) -> dict:
    """The next months' partitions of appeals and appeal_events (gis/partitions.py), and the
    months of rows that fell into a DEFAULT partition."""
    import asyncio

    from gis import partitions
    from gis.db import database_url, libpq_url

    def run() -> dict:
        url = libpq_url(database_url(settings(), start_embedded=False))
        with psycopg.connect(url, autocommit=True) as conn:
            return partitions.ensure(conn, now=clock.now())

    made = await asyncio.to_thread(run)
    if made["created"]:
        log.info("partitions: %s", made)
    return made


async def run_worker(app: procrastinate.App, *, concurrency: int, name: str | None = None,
                     queues: list[str] | None = None) -> None:  # fmt: skip
    """Run one worker until SIGINT/SIGTERM (a graceful stop lets running jobs finish).

    The database unreachable when it starts, or for longer than its pool waits
    (worker_pool_timeout_seconds, 30 s) while it runs, ends procrastinate's worker with a
    ConnectorException: it is started again every WORKER_RESTART_SECONDS, since nobody
    restarts a `hromada worker` that exits (`hromada run` does not) and an outage must not
    leave the service without its jobs. The jobs it was
    running are taken again by jobs.retry_stalled (tests/test_faults.py)."""
    import asyncio

    from procrastinate.exceptions import ConnectorException
    from psycopg_pool import PoolTimeout

    conf = settings()
    options: dict[str, Any] = {"name": name} if name else {}
    if queues:
        options["queues"] = queues
    while True:
        try:
            async with app.open_async():
                await app.run_worker_async(
                    concurrency=concurrency,
                    **options,
                    install_signal_handlers=True,
                    fetch_job_polling_interval=conf.worker_poll_seconds,
                    update_heartbeat_interval=max(1.0, conf.worker_stalled_after_seconds / 6),
                    stalled_worker_timeout=conf.worker_stalled_after_seconds,
                    delete_jobs="never",  # forget_old_jobs does, after KEEP_JOBS_HOURS
                )
            return
        except (ConnectorException, psycopg.OperationalError, PoolTimeout) as exc:
            log.warning("worker: the database is unreachable (%s); starting again in %s s",
                        exc, WORKER_RESTART_SECONDS)  # fmt: skip
            try:
                await app.connector.close_async()  # a pool left half-open by a failed start
            except Exception:  # noqa: BLE001 — it is being thrown away
                pass
            await asyncio.sleep(WORKER_RESTART_SECONDS)


WORKER_RESTART_SECONDS = 2.0
