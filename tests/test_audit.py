"""The audit trail (gis/audit.py, migration 0004): events are sealed into a hash chain in the
transaction of the change, they cannot be updated or deleted, `hromada audit verify` walks the
chain and names the first broken event; the demo's events carry hashes too; layer feature
changes are recorded by record_feature_change()."""

from __future__ import annotations

import asyncio
import concurrent.futures
from argparse import Namespace

import psycopg
import pytest
from fastapi.testclient import TestClient
from test_lifecycle import City, sql

from api import create_app
from cli.main import cmd_audit
from gis.audit import record_feature_change, verify
from gis.db import libpq_url
from gis.settings import Settings


@pytest.fixture
def town(db_url, smtp_server, tmp_path):
    settings = Settings(database_url=db_url, smtp_host="127.0.0.1", smtp_port=smtp_server.port,
                        rate_limits_enabled=False, demo_mode=False,
                        data_dir=tmp_path)  # fmt: skip
    with TestClient(create_app(settings)) as client:
        yield City(db_url, client, smtp_server)


def _verify(url) -> dict:
    with psycopg.connect(url) as conn:
        return verify(conn)


def _cli(url, capsys) -> tuple[int, str]:
    rc = cmd_audit(Namespace(action="verify"), Settings(database_url=url))
    return rc, capsys.readouterr().out


def _walk(town, number):
    h = town.h("executor")
    assert town.client.post(f"/api/v1/appeals/{number}/take", headers=h).status_code == 200
    r = town.client.post(f"/api/v1/appeals/{number}/answer", json={"text": "Готово"}, headers=h)
    assert r.status_code == 200
    r = town.client.post(f"/api/v1/appeals/{number}/confirm", headers=town.h("citizen"))
    assert r.status_code == 200


def test_events_are_chained_and_verify(town, capsys):
    for _ in range(3):
        _walk(town, town.appeal())
    rows = sql(town.url, "SELECT chain_seq, prev_hash, hash FROM appeal_events ORDER BY chain_seq")
    assert [r[0] for r in rows] == list(range(1, 10))
    assert rows[0][1] is None
    assert all(b[1] == a[2] for a, b in zip(rows, rows[1:], strict=False))
    assert all(len(r[2]) == 64 for r in rows)
    head = sql(town.url, "SELECT seq, hash FROM audit_chain_heads WHERE chain = 'appeals'")
    assert head == [(9, rows[-1][2])]
    rc, out = _cli(town.url, capsys)
    assert rc == 0 and out.startswith("audit: OK")


def test_the_trail_is_append_only(town):
    _walk(town, town.appeal())
    with psycopg.connect(town.url) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE appeal_events SET comment = 'x'")
    with psycopg.connect(town.url) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM appeal_events")
    # A user's erasure (actor_user_id SET NULL) is allowed and keeps the chain intact.
    sql(town.url, "DELETE FROM auth_sessions WHERE user_id = %s", (town.users["executor"],))
    sql(town.url, "DELETE FROM users WHERE id = %s", (town.users["executor"],))
    assert _verify(town.url)["ok"]


def test_a_tampered_row_is_detected_with_its_id(town, capsys):
    for _ in range(2):
        _walk(town, town.appeal())
    victim = sql(town.url, "SELECT id FROM appeal_events WHERE chain_seq = 3")[0][0]
    # A superuser bypasses the trigger: disable, edit, enable.
    with psycopg.connect(town.url) as conn:
        conn.execute("ALTER TABLE appeal_events DISABLE TRIGGER append_only")
        conn.execute(
            'UPDATE appeal_events SET new = new || \'{"answer": "Все чудово"}\' WHERE id = %s',
            (victim,),
        )
        conn.execute("ALTER TABLE appeal_events ENABLE TRIGGER append_only")
    rc, out = _cli(town.url, capsys)
    assert rc == 1 and f"event_id={victim}" in out and "hash" in out


def test_a_deleted_row_or_tail_is_detected(town):
    for _ in range(2):
        _walk(town, town.appeal())
    ids = [r[0] for r in sql(town.url, "SELECT id FROM appeal_events ORDER BY chain_seq")]
    with psycopg.connect(town.url) as conn:
        conn.execute("SET hromada.audit_maintenance = 'on'")
        conn.execute("DELETE FROM appeal_events WHERE id = %s", (ids[2],))
    broken = _verify(town.url)["broken"]
    assert broken.event_id == ids[3] and broken.problem == "link"
    with psycopg.connect(libpq_url(town.url)) as conn:
        conn.execute("SET hromada.audit_maintenance = 'on'")
        conn.execute("DELETE FROM appeal_events WHERE id >= %s", (ids[2],))
    broken = _verify(town.url)["broken"]
    assert broken.problem == "head"


def test_concurrent_writers_keep_one_linear_chain(town):
    numbers = [town.appeal() for _ in range(8)]

    def take(number):
        return town.client.post(f"/api/v1/appeals/{number}/take", headers=town.h("executor"))

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        assert all(r.status_code == 200 for r in pool.map(take, numbers))
    assert sql(town.url, "SELECT count(*), max(chain_seq) FROM appeal_events") == [(8, 8)]
    assert _verify(town.url)["ok"]


def test_layer_feature_changes_are_recorded_and_chained(town, capsys):
    async def main():
        url = libpq_url(town.url)
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            async with conn.transaction():
                assert await record_feature_change(
                    conn, layer="kiosks", feature_id=7, actor="Планувальник",
                    actor_user_id=town.users["planner"], action="update",
                    old={"owner": "ФОП А", "area": 6}, new={"owner": "ФОП Б", "area": 6},
                )  # fmt: skip
                assert not await record_feature_change(
                    conn, layer="kiosks", feature_id=7, actor="x", actor_user_id=None,
                    action="update", old={"a": 1}, new={"a": 1},
                )  # fmt: skip

    asyncio.run(main())
    rows = sql(town.url, "SELECT layer, feature_id, old, new, chain_seq FROM feature_events")
    assert rows == [("kiosks", "7", {"owner": "ФОП А"}, {"owner": "ФОП Б"}, 1)]
    assert _cli(town.url, capsys)[0] == 0
    with psycopg.connect(town.url) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE feature_events SET actor = 'x'")


def test_demo_events_are_sealed_on_their_own(db_url, shared_data, capsys):
    import datetime as dt

    from importers.demo import generate

    now = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    generate(db_url, seed=3, appeals=300, shared_dir=shared_data, now=now)
    rows = sql(db_url, "SELECT count(*), count(hash), count(chain_seq) FROM appeal_events")
    assert rows[0][0] > 300 and rows[0][1] == rows[0][0] and rows[0][2] == 0
    assert _cli(db_url, capsys)[0] == 0
    # A re-run deletes and rebuilds them: allowed, and the trail still verifies.
    generate(db_url, seed=4, appeals=300, shared_dir=shared_data, now=now)
    assert _cli(db_url, capsys)[0] == 0
    victim = sql(db_url, "SELECT min(id) FROM appeal_events")[0][0]
    with psycopg.connect(db_url) as conn:
        conn.execute("ALTER TABLE appeal_events DISABLE TRIGGER append_only")
        conn.execute("UPDATE appeal_events SET at = at - interval '1 day' WHERE id = %s",
                     (victim,))  # fmt: skip
        conn.execute("ALTER TABLE appeal_events ENABLE TRIGGER append_only")
    rc, out = _cli(db_url, capsys)
    assert rc == 1 and f"event_id={victim}" in out


def test_events_written_before_the_chain_existed_are_sealed_by_the_migration(empty_db_url):
    """A database upgraded from 0003 keeps its history and verifies afterwards."""
    import psycopg

    from gis.audit import verify
    from gis.migrate import upgrade

    upgrade(empty_db_url, "0003")
    with psycopg.connect(empty_db_url) as conn:
        conn.execute(
            "INSERT INTO categories (code, name) VALUES ('c', 'Категорія');"
            "INSERT INTO executors (code, name, kind) VALUES ('e', 'Виконавець', 'utility');"
        )
        for number, generated in (("А-1", False), ("Б-2", True), ("В-3", False)):
            appeal = conn.execute(
                "INSERT INTO appeals (number, category_id, text, channel, deadline_at, generated)"
                " VALUES (%s, (SELECT id FROM categories), 'т', 'site', now(), %s) RETURNING id",
                (number, generated),
            ).fetchone()[0]
            for action in ("registered", "take"):
                conn.execute(
                    "INSERT INTO appeal_events (appeal_id, actor, action, new)"
                    " VALUES (%s, 'оператор', %s, '{}')",
                    (appeal, action),
                )
    upgrade(empty_db_url)
    with psycopg.connect(empty_db_url) as conn:
        outcome = verify(conn)
        assert outcome["ok"], outcome
        seqs = [r[0] for r in conn.execute("SELECT chain_seq FROM appeal_events ORDER BY id")]
        assert seqs == [1, 2, None, None, 3, 4]
        # The chain goes on from the sealed history.
        conn.execute(
            "INSERT INTO appeal_events (appeal_id, actor, action, new)"
            " VALUES ((SELECT id FROM appeals WHERE number = 'А-1'), 'виконавець', 'answer', '{}')"
        )
        assert verify(conn)["ok"]
        # A generated appeal's new event stays out of the chain: the seal reads `generated`
        # from the anchor table, filled for the appeals made before 0023.
        generated_seq = conn.execute(
            "INSERT INTO appeal_events (appeal_id, actor, action, new)"
            " VALUES ((SELECT id FROM appeals WHERE number = 'Б-2'), 'демо', 'answer', '{}')"
            " RETURNING chain_seq"
        ).fetchone()[0]
        assert generated_seq is None and verify(conn)["ok"]
        conn.execute("SET hromada.audit_maintenance = 'on'")
        conn.execute("UPDATE appeal_events SET actor = 'хтось інший' WHERE chain_seq = 2")
        assert not verify(conn)["ok"]
