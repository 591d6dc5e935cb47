"""High availability (issue 18, item 5): Patroni over etcd, a primary and a synchronous replica
on this machine (gis/ha.py: Debian's etcd-server and PostgreSQL 15 + PostGIS, Patroni from the
venv, run as the `postgres` user), and a real `hromada serve` whose HROMADA_DATABASE_URL is the
multi-host URL `postgresql://postgres@h:p1,h:p2/hromada?target_session_attrs=read-write`.

Under a load of appeals (tests/test_faults.Load: client threads, each appeal with an
Idempotency-Key retried after a 503 or a lost connection), the primary's machine is "lost":
SIGKILL to its Patroni and to its postmaster. Patroni promotes the replica once the dead
leader's key expires in etcd (ttl 20 s, Patroni's least); meanwhile every answer is a 503 JSON
within a bounded time (never a 500, never a hang); the service's pool then finds the new
primary by itself (libpq tries both hosts and keeps the writable one), and every appeal that
got a 201 is there exactly once — synchronous_mode: a commit is acknowledged only once the
replica has it, so the failover loses none. Prints its figures (docs/HA.md keeps one run's).
Everything started (etcd, both Patronis and their PostgreSQLs, the server) is stopped and its
directory removed in `finally`."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from live import wait_for
from test_faults import BOUND_503, CLIENTS, Load, Stack, assert_exactly_once, sql, subkind

from gis.embedded import free_port
from gis.ha import HaCluster
from gis.migrate import upgrade


@pytest.fixture(scope="module")
def ha(shared_data):
    from importers.demo import generate

    base = Path(tempfile.mkdtemp(prefix="hromada-ha-"))
    base.chmod(0o755)  # Patroni runs as the postgres user
    cluster = None
    stack = None
    try:
        started = time.monotonic()
        cluster = HaCluster(base / "cluster", nodes=2, synchronous_mode=True, throwaway=True)
        cluster.start()
        up = time.monotonic()
        upgrade(cluster.url)  # `hromada migrate` through the multi-host URL
        generate(cluster.url, seed=18, appeals=30, shared_dir=shared_data)
        loaded = time.monotonic()
        stack = Stack(SimpleNamespace(url=cluster.url), base, smtp_port=free_port())
        stack.start_api()
        print(
            f"etcd + 2 Patroni nodes up in {up - started:.1f} s, migrated and a demo city "
            f"loaded in {loaded - up:.1f} s, the server up in {time.monotonic() - loaded:.1f} s"
        )
        yield cluster, stack
    finally:
        try:
            if stack is not None:
                stack.kill(stack.api)
        finally:
            if cluster is not None:
                cluster.stop()
            import shutil

            shutil.rmtree(base, ignore_errors=True)


def test_failover_promotes_the_replica_and_loses_no_appeal(ha):
    cluster, stack = ha
    old, new = cluster.members
    assert old.is_primary() and new.is_sync_standby()
    load = Load(stack.base_url, subkind(cluster.url), "ha")
    with load:
        load.wait_accepted(10)
        killed = time.monotonic()
        old.kill()
        wait_for(lambda: any(s >= killed for s, _ in load.unavailable), timeout=BOUND_503 + 5,
                 what="a 503 after the kill")  # fmt: skip
        new.wait(new.is_primary, 60, "promoted")
        promoted = time.monotonic()
        before = len(load.accepted)
        wait_for(lambda: len(load.accepted) > before + CLIENTS, timeout=30,
                 what="appeals accepted by the new primary")  # fmt: skip
        first_503 = min(s + t for s, t in load.unavailable if s >= killed)
        load.wait_accepted(5)
    assert stack.api is not None and stack.api.poll() is None, stack.output("api")
    assert new.state().get("role") == "primary" and new.state().get("timeline", 0) >= 2
    figures = assert_exactly_once(cluster.url, load)
    after = [s + t for s, t in load.unavailable if s >= killed]
    slowest = max(t for _, t in load.unavailable)
    figures.update({"promotion after the kill, s": round(promoted - killed, 2),
                    "first 503 after the kill, s": round(first_503 - killed, 2),
                    "writes back after the kill, s": round(max(after) - killed, 2),
                    "slowest 503, s": round(slowest, 2), "lost": 0})  # fmt: skip
    print("failover:", figures)
    assert slowest < BOUND_503, figures
    # The service writes to the promoted node, which no longer follows anyone.
    rows = sql(cluster.node_url(new), "SELECT pg_is_in_recovery(), count(*) FROM appeals"
                                      " WHERE text LIKE 'Навантаження ha:%'")  # fmt: skip
    assert rows[0] == (False, figures["accepted"]), rows
    assert httpx.get(f"{stack.base_url}/healthz", timeout=5).status_code == 200
