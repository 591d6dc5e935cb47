"""Background jobs (gis/jobs.py) on procrastinate in the test database, run by real
`hromada worker` processes: a job deferred in a transaction lives and dies with it, and the
scheduler closes the appeals whose author did not confirm in time — once the clock
(gis/clock.py, moved through the worker's environment) passes the confirmation period.
"""

from __future__ import annotations

import asyncio

import psycopg
from live import start_worker, stop_worker, wait_for

from gis import jobs, lifecycle
from gis.settings import Settings

DAY = 24 * 3600


def one(url: str, query: str, params: tuple = ()):
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(query, params)
        return cur.fetchone() if cur.description else None


def test_a_job_deferred_in_a_transaction_lives_and_dies_with_it(db_url):
    async def main():
        async with await psycopg.AsyncConnection.connect(db_url) as conn:
            async with conn.transaction(force_rollback=True):
                await jobs.defer_in(conn, "lifecycle.autoclose", {"timestamp": 1})
            async with conn.transaction():
                kept = await jobs.defer_in(conn, "lifecycle.autoclose", {"timestamp": 2},
                                           queue="periodic")  # fmt: skip
        return kept

    kept = asyncio.run(main())
    assert one(db_url, "SELECT count(*) FROM procrastinate_jobs") == (1,)
    job = one(db_url, "SELECT id, task_name, queue_name, args->>'timestamp', status::text"
                      " FROM procrastinate_jobs")  # fmt: skip
    assert job == (kept, "lifecycle.autoclose", "periodic", "2", "todo")


def _appeal_on_check(url: str, number: str, answered_days_ago: float) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        category = conn.execute(
            "INSERT INTO categories (code, name, deadline_days) VALUES ('t-autoclose', %s, 15)"
            " ON CONFLICT DO NOTHING RETURNING id", ("Тест автозакриття",),
        ).fetchone() or conn.execute(
            "SELECT id FROM categories WHERE name = %s", ("Тест автозакриття",)
        ).fetchone()  # fmt: skip
        conn.execute(
            "INSERT INTO appeals (number, category_id, text, channel, status, result,"
            " deadline_at, answered_at) VALUES (%s, %s, 'Яма біля під’їзду', 'site', 'on_check',"
            " %s, now() + interval '5 days', now() - make_interval(secs => %s))",
            (number, category[0], lifecycle.R_DONE_AWAITING, answered_days_ago * DAY),
        )


def _status(url: str, number: str) -> tuple:
    return one(url, "SELECT status, result FROM appeals WHERE number = %s", (number,))


def _autoclose_runs(url: str) -> int:
    return one(url, "SELECT count(*) FROM procrastinate_jobs WHERE task_name ="
                    " 'lifecycle.autoclose' AND status = 'succeeded'")[0]  # fmt: skip


def test_the_scheduler_closes_unconfirmed_appeals_when_the_clock_passes_the_period(db_url):
    settings = Settings()
    period = settings.appeal_confirm_days
    _appeal_on_check(db_url, "J-1", answered_days_ago=period - 4)
    _appeal_on_check(db_url, "J-2", answered_days_ago=period - 8)

    # Today: the scheduler runs auto-closing (on start, for the tick just passed) and nothing
    # is due yet.
    worker = start_worker(db_url, name="today")
    try:
        wait_for(lambda: _autoclose_runs(db_url) >= 1, what="the first autoclose run")
    finally:
        stop_worker(worker)
    assert _status(db_url, "J-1")[0] == "on_check"
    assert _status(db_url, "J-2")[0] == "on_check"

    # Six days on: J-1 was answered period + 2 days ago and closes by itself; J-2 (period - 2)
    # waits. Procrastinate defers each tick once (by real time): forgetting the ticks deferred
    # so far lets the new worker run the same tick again, rather than wait for the next one.
    one(db_url, "DELETE FROM procrastinate_periodic_defers")
    worker = start_worker(db_url, shift_seconds=6 * DAY, name="later")
    try:
        wait_for(lambda: _status(db_url, "J-1")[0] == "closed", what="J-1 closed")
    finally:
        stop_worker(worker)
    assert _status(db_url, "J-1") == ("closed", lifecycle.R_AUTOCLOSED)
    assert _status(db_url, "J-2")[0] == "on_check"
    assert one(db_url, "SELECT actor, new->>'status' FROM appeal_events e JOIN appeals a"
                       " ON a.id = e.appeal_id WHERE a.number = 'J-1'"
                       " AND e.action = 'autoclose'") == ("system", "closed")  # fmt: skip
