"""A streaming read replica (issue 18, slice D): a primary and a replica on this machine, two
embedded clusters (gis/embedded.py: make_replica = pg_basebackup -R), the app reading the
reads that may lag from the replica (gis/replica.py, api/reads.py).

- a new appeal reaches the map's tiles, served by the replica, within seconds;
- with the replica's replay paused, the author still reads their own appeal (their mark sends
  their reads to the primary) and the tile cache keeps no stale tile once replay resumes;
- the replica stopped: the reads fall back to the primary, no 5xx; back when it is.

Figures (printed with -s): the replica's lag after a write, the time from a write to the
replica-served tile that shows it.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
import time
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from test_tiles import decode, tile_of

from api import create_app
from api.reads import MARK_COOKIE, MARK_HEADER
from gis.embedded import EmbeddedCluster, free_port
from gis.migrate import upgrade
from gis.replica import parse_lsn
from gis.settings import Settings

NOW = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
FIGURES: dict[str, float] = {}


@pytest.fixture(scope="module")
def pair(shared_data):
    """(primary, replica): a small demo city on a throwaway cluster and its streaming replica."""
    from importers.demo import generate

    base = Path(tempfile.mkdtemp(prefix="hromada-replica-"))
    os.chmod(base, 0o755)
    primary = EmbeddedCluster(base / "primary", free_port(), database="hromada", throwaway=True)
    replica = None
    try:
        primary.start()
        upgrade(primary.url)
        generate(primary.url, seed=18, appeals=300, shared_dir=shared_data, now=NOW)
        # A committed write is in the WAL at once, as in production (not so in a throwaway
        # cluster): the figures below are then the replica's, not the WAL writer's delay.
        with psycopg.connect(primary.url, autocommit=True) as conn:
            conn.execute("ALTER SYSTEM SET synchronous_commit = on")
            conn.execute("SELECT pg_reload_conf()")
        started = time.monotonic()
        replica = primary.make_replica(base / "replica", free_port())
        replica.start()
        FIGURES["replica made and started, s"] = time.monotonic() - started
        yield primary, replica
    finally:
        if replica is not None:
            replica.destroy()
        primary.destroy()
        shutil.rmtree(base, ignore_errors=True)
        for name, value in FIGURES.items():
            print(f"replica figure: {name} = {value:.3f}")


@pytest.fixture(scope="module")
def client(pair, tmp_path_factory):
    primary, replica = pair
    settings = Settings(
        database_url=primary.url,
        database_replica_url=replica.url,
        replica_invalidation_wait_seconds=1.0,
        rate_limits_enabled=False,
        data_dir=tmp_path_factory.mktemp("replica-data"),
    )
    with TestClient(create_app(settings)) as c:
        yield c


def sql(url: str, query: str, params=None) -> list[tuple]:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(query, params).fetchall()


def until(predicate, seconds: float = 10.0):
    deadline = time.monotonic() + seconds
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.01)


def tile_ids(client, address, headers=None) -> set[int]:
    r = client.get("/tiles/appeals/{}/{}/{}.mvt".format(*address), headers=headers or {})
    assert r.status_code == 200, r.text
    return {f["id"] for f in decode(r.content).get("appeals", {"features": []})["features"]}


def file_appeal(client, url: str, lon: float, lat: float) -> tuple[str, int, str]:
    """(number, id, mark): an appeal filed by an anonymous author, and the mark of the write."""
    (category,) = sql(url, "SELECT id FROM categories WHERE parent_id IS NOT NULL AND is_active"
                           " ORDER BY id LIMIT 1")[0]  # fmt: skip
    r = client.post(
        "/api/v1/appeals",
        json={
            "category": category,
            "text": "Не працює вуличне освітлення на всій ділянці вулиці від перехрестя.",
            "location": {"lon": lon, "lat": lat},
            "author": {
                "full_name": "Автор Репліки",
                "email": "replica.author@example.com",
                "phone": "+380 50 123 45 67",
                "postal_address": "м. Київ, вул. Хрещатик, 22",
            },  # fmt: skip
            "consent_to_publish": True,
        },
    )
    assert r.status_code in (200, 201), r.text
    mark = r.headers[MARK_HEADER]
    assert r.cookies.get(MARK_COOKIE) == mark and parse_lsn(mark)
    client.cookies.clear()  # the other readers below carry no mark unless given
    number = r.json()["number"]
    return number, sql(url, "SELECT id FROM appeals WHERE number = %s", (number,))[0][0], mark


def test_a_new_appeal_reaches_the_tiles_served_by_the_replica_within_seconds(client, pair):
    primary, replica = pair
    assert sql(replica.url, "SELECT pg_is_in_recovery()") == [(True,)]
    reads = client.app.state.reads
    address = tile_of(30.5120, 50.4520, 16)
    before = reads.stats.replica
    assert tile_ids(client, address) == tile_ids(client, address)  # the second from the cache
    assert reads.stats.replica > before  # drawn on the replica

    started = time.monotonic()
    _number, new_id, mark = file_appeal(client, primary.url, 30.5120, 50.4520)
    with psycopg.connect(replica.url, autocommit=True) as on_replica:

        def replay() -> int:
            row = on_replica.execute("SELECT pg_last_wal_replay_lsn()::text").fetchone()
            return parse_lsn(row[0]) or 0 if row else 0

        posted = time.monotonic()
        assert until(lambda: replay() >= parse_lsn(mark), 5.0), "the write was not replayed"
        FIGURES["replica lag: the write's answer → replayed, s"] = time.monotonic() - posted
    (lag,) = sql(primary.url, "SELECT extract(epoch FROM replay_lag) FROM pg_stat_replication")[0]
    if lag is not None:
        FIGURES["pg_stat_replication.replay_lag on the primary, s"] = float(lag)
    FIGURES["the write sent → replayed on the replica, s"] = time.monotonic() - started
    served = reads.stats.replica
    assert until(lambda: new_id in tile_ids(client, address), 5.0), "not on the map in 5 s"
    FIGURES["write → tile from the replica showing it, s"] = time.monotonic() - started
    assert reads.stats.replica > served and reads.stats.fallback == 0
    gate = client.app.state.layer_changes.gate
    assert gate is not None and gate.forced == 0 and until(lambda: gate.idle)
    # The author's own reads use the cache again once the replica has replayed their write.
    cache = client.app.state.tile_cache
    assert new_id in tile_ids(client, address, {MARK_HEADER: mark})
    hits = cache.hits
    assert new_id in tile_ids(client, address, {MARK_HEADER: mark})
    assert cache.hits == hits + 1
    FIGURES["change heard → caches dropped (replica replayed it), s"] = gate.lag_seconds[-1]


def test_paused_replay_the_author_reads_their_appeal_and_no_stale_tile_is_kept(client, pair):
    primary, replica = pair
    lon, lat = 30.5230, 50.4470
    address = tile_of(lon, lat, 16)
    bbox = f"{lon - 0.001},{lat - 0.001},{lon + 0.001},{lat + 0.001}"
    gate = client.app.state.layer_changes.gate
    cache = client.app.state.tile_cache
    tile_ids(client, address)  # cached
    sql(replica.url, "SELECT pg_wal_replay_pause()")
    try:
        assert until(lambda: sql(replica.url, "SELECT pg_get_wal_replay_pause_state()")[0][0]
                     == "paused")  # fmt: skip
        forced = gate.forced
        number, new_id, mark = file_appeal(client, primary.url, lon, lat)
        author = {MARK_HEADER: mark}

        # The author, carrying the mark of their write: the primary answers, past the cache.
        assert client.get(f"/api/v1/appeals/{number}", headers=author).status_code == 200
        assert new_id in tile_ids(client, address, author)
        items = client.get(f"/ogc/collections/appeals/items?bbox={bbox}", headers=author).json()
        assert new_id in {f["id"] for f in items["features"]}
        feed = client.get(f"/api/v1/appeals/public?period=all&bbox={bbox}", headers=author)
        assert number in {item["number"] for item in feed.json()["items"]}
        # As a cookie too (the portal's way).
        client.cookies.set(MARK_COOKIE, mark)
        try:
            assert new_id in tile_ids(client, address)
        finally:
            client.cookies.clear()

        # Anyone else reads the paused replica: not there yet.
        items = client.get(f"/ogc/collections/appeals/items?bbox={bbox}").json()
        assert new_id not in {f["id"] for f in items["features"]}
        # The bounded wait (1 s here) ends: the caches are dropped anyway, and the tile drawn
        # again from the paused replica — still without the appeal — is cached…
        assert until(lambda: gate.forced > forced, 5.0), "the gate never gave up waiting"
        assert new_id not in tile_ids(client, address)
        hits = cache.hits
        assert new_id not in tile_ids(client, address)
        assert cache.hits == hits + 1
    finally:
        sql(replica.url, "SELECT pg_wal_replay_resume()")
    # …and dropped again once the replica has replayed the write.
    resumed = time.monotonic()
    assert until(lambda: new_id in tile_ids(client, address), 5.0), "a stale tile was kept"
    FIGURES["replay resumed → the cached stale tile replaced, s"] = time.monotonic() - resumed


def test_the_replica_stopped_reads_fall_back_to_the_primary(client, pair):
    primary, replica = pair
    reads = client.app.state.reads
    lon, lat = 30.4800, 50.4300
    bbox = f"{lon - 0.01},{lat - 0.01},{lon + 0.01},{lat + 0.01}"
    paths = [
        "/tiles/appeals/{}/{}/{}.mvt".format(*tile_of(lon, lat, 15)),
        f"/ogc/collections/appeals/items?bbox={bbox}&limit=5",
        "/api/v1/appeals/public?period=all&limit=5",
        "/api/v1/appeals/public/statistics?period=all",
        "/api/v1/reports/districts",
        "/api/v1/opendata/appeals.csv?period=all",
    ]
    replica.stop()
    try:
        fallback = reads.stats.fallback
        for i, path in enumerate(paths):
            started = time.monotonic()
            r = client.get(path)
            assert r.status_code == 200, (path, r.status_code, r.text[:300])
            took = time.monotonic() - started
            assert took < 5.0, path
            if i < 2:
                FIGURES[f"replica stopped: read {i + 1} answered by the primary in, s"] = took
        assert reads.stats.fallback > fallback
        # A write while it is down: the map shows it from the primary at once.
        _number, new_id, _mark = file_appeal(client, primary.url, lon, lat)
        assert until(lambda: new_id in tile_ids(client, tile_of(lon, lat, 16)), 5.0)
    finally:
        replica.start()
    # Back: the reads return to the replica by themselves.
    served = reads.stats.replica
    items = f"/ogc/collections/appeals/items?bbox={bbox}&limit=5"
    assert until(lambda: client.get(items).status_code == 200 and reads.stats.replica > served,
                 10.0)  # fmt: skip
