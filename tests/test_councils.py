"""Councils as tenants (issue 17, slice 0): migration 0018's backfill on the demo city, the
default council of every tenant column, the council scope of a bound member of staff, and
the numbers' prefix."""

from __future__ import annotations

import asyncio
import datetime as dt
import os

import psycopg
import pytest
from conftest import create_database, drop_database

from api.policy import Principal
from api.security import _principal
from gis import accounts, councils
from gis.db import libpq_url
from gis.migrate import current_revision, downgrade, upgrade
from gis.scope import appeal_scope, council_of, council_scope

DEMO = {"prefix": "councils", "seed": 17, "appeals": 200, "accounts": True}

NOT_NULL = ("appeals", "executors", "routing_rules", "wards", "deputies", "dispatch_subscriptions")
FILLED = ("districts", "advertising_structures", "kiosks")


def _one(conn, sql, params=()):
    return conn.execute(sql, params).fetchone()


def test_the_demo_city_is_one_council_kyiv_and_every_tenant_row_is_its(demo_url):
    with psycopg.connect(demo_url) as conn:
        rows = conn.execute("SELECT id, code, slug, name, number_prefix FROM councils").fetchall()
        assert len(rows) == 1
        council_id, code, slug, name, prefix = rows[0]
        assert (code, slug, name, prefix) == (councils.KYIV_CODE, "kyiv", "Київ", "")
        for table in (*NOT_NULL, *FILLED):
            total, own = _one(conn, f"SELECT count(*), count(*) FILTER (WHERE council_id = %s)"
                                    f" FROM {table}", (council_id,))  # fmt: skip
            assert total > 0 and own == total, table
        # Staff bound to an organisation or a ward are the council's; the demo's operators,
        # curators, admins and planners are oblast staff (no council), seeing every council.
        bound = _one(
            conn,
            "SELECT count(*), count(*) FILTER (WHERE council_id = %s) FROM users"
            " WHERE role IN ('executor', 'manager', 'deputy')",
            (council_id,),
        )
        assert bound[0] > 0 and bound[1] == bound[0]
        unbound = {
            r[0]
            for r in conn.execute(
                "SELECT DISTINCT role FROM users WHERE role <> 'citizen' AND council_id IS NULL"
            )
        }
        assert unbound <= {"operator", "curator", "admin", "planner"}
        assert _one(conn, "SELECT count(*) FROM users WHERE role = 'citizen'"
                          " AND council_id IS NOT NULL")[0] == 0  # fmt: skip
        # Every category of the catalogue is offered by the council.
        assert _one(conn, "SELECT count(*) FROM categories c WHERE NOT EXISTS (SELECT 1 FROM"
                          " council_categories cc WHERE cc.category_id = c.id)")[0] == 0  # fmt: skip
        assert _one(conn, "SELECT count(*) FROM appeal_features WHERE council_id = %s",
                    (council_id,))[0] == _one(conn, "SELECT count(*) FROM appeals")[0]  # fmt: skip


def test_the_migration_backfills_the_demo_without_rewriting_appeals(demo_url, server_url):
    """Down to 0017 and up again on a copy of the demo: one council per current hromada
    (Kyiv's slug `kyiv`, prefix ''), every tenant row its own, appeals not rewritten."""
    name = f"t_councils_copy_{os.getpid()}"
    url = create_database(server_url, name, template=demo_url.rpartition("/")[2])
    try:
        downgrade(url, "0017")
        with psycopg.connect(url) as conn:
            assert _one(conn, "SELECT to_regclass('councils')")[0] is None
            before = _one(conn, "SELECT pg_relation_filenode('appeals')")[0]
            appeals = _one(conn, "SELECT count(*) FROM appeals")[0]
        upgrade(url, "0018")
        assert current_revision(url) == "0018"
        with psycopg.connect(url) as conn:
            assert _one(conn, "SELECT pg_relation_filenode('appeals')")[0] == before
            rows = conn.execute("SELECT id, code, slug, number_prefix FROM councils").fetchall()
            assert [r[1:] for r in rows] == [(councils.KYIV_CODE, "kyiv", "")]
            council_id = rows[0][0]
            assert _one(conn, "SELECT count(*) FROM appeals WHERE council_id = %s",
                        (council_id,))[0] == appeals  # fmt: skip
            for table in (*NOT_NULL, *FILLED):
                assert _one(conn, f"SELECT count(*) FROM {table} WHERE council_id IS DISTINCT"
                                  " FROM %s", (council_id,))[0] == 0, table  # fmt: skip
            # The default of a tenant column is the only council.
            new = _one(conn, "INSERT INTO executors (code, name, kind) VALUES"
                             " ('t-new', 'Новий', 'utility') RETURNING council_id")[0]  # fmt: skip
            assert new == council_id
    finally:
        drop_database(server_url, name)


def test_the_default_council_is_the_placeholder_then_the_only_one_then_none(db_url):
    with psycopg.connect(db_url, autocommit=True) as conn:
        # No council yet: the placeholder is made once.
        first = _one(conn, "INSERT INTO executors (code, name, kind) VALUES ('e1', 'E1',"
                           " 'utility') RETURNING council_id")[0]  # fmt: skip
        assert conn.execute("SELECT code, slug FROM councils").fetchall() == [("", "default")]
        # ensure_single adopts it once the boundary is known.
        assert councils.ensure_single(conn, "UA1", "Громада А", slug="hromada-a") == first
        assert conn.execute("SELECT code, slug FROM councils").fetchall() == [("UA1", "hromada-a")]
        conn.execute("INSERT INTO councils (code, slug, name, number_prefix) VALUES"
                     " ('UA2', 'hromada-b', 'Громада Б', 'Б')")  # fmt: skip
        with pytest.raises(psycopg.errors.NotNullViolation, match="council_required"):
            conn.execute("INSERT INTO executors (code, name, kind) VALUES ('e2', 'E2', 'utility')")
        # …and ensure_single leaves an install of several councils alone.
        assert councils.ensure_single(conn, "UA3", "В") is None
        # A staff member bound to an organisation takes its council.
        b = _one(conn, "SELECT id FROM councils WHERE slug = 'hromada-b'")[0]
        conn.execute("INSERT INTO executors (code, name, kind, council_id) VALUES"
                     " ('e3', 'E3', 'utility', %s)", (b,))  # fmt: skip
        user = _one(conn, "INSERT INTO users (email, full_name, role, executor_id) VALUES"
                          " ('x@example.org', 'X', 'executor', (SELECT id FROM executors"
                          " WHERE code = 'e3')) RETURNING council_id")[0]  # fmt: skip
        assert user == b
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute("INSERT INTO users (email, full_name, role, council_id) VALUES"
                         " ('c@example.org', 'C', 'citizen', %s)", (b,))  # fmt: skip


def _appeal(conn, number: str, council_id: int, category_id: int) -> None:
    conn.execute(
        "INSERT INTO appeals (number, category_id, text, channel, deadline_at, council_id)"
        " VALUES (%s, %s, 'Текст', 'site', now() + interval '15 days', %s)",
        (number, category_id, council_id),
    )


def _principal_of(url: str, user_id: int) -> Principal:
    async def main():
        async with await psycopg.AsyncConnection.connect(libpq_url(url), autocommit=True) as c:
            session = await accounts.create_session(
                c, user_id=user_id, kind="bearer", ip=None, user_agent=None,
                ttl=dt.timedelta(hours=1),
            )  # fmt: skip
            user = await accounts.resolve_session(c, session.token, kind="bearer")
            assert user is not None
            return _principal(user)

    return asyncio.run(main())


def _create_user(url: str, email: str, role: str, council_id: int | None) -> int:
    async def main():
        async with await psycopg.AsyncConnection.connect(libpq_url(url), autocommit=True) as c:
            return await accounts.create_user(
                c, email=email, password=None, full_name="Працівник", role=role,
                council_id=council_id,
            )  # fmt: skip

    return asyncio.run(main())


def _visible(url: str, principal) -> set[str]:
    sql, params = appeal_scope(principal, "a")
    with psycopg.connect(url) as conn:
        return {r[0] for r in conn.execute(f"SELECT number FROM appeals a WHERE {sql}", params)}


def test_a_bound_member_of_staff_sees_their_council_only(db_url):
    with psycopg.connect(db_url, autocommit=True) as conn:
        a, b = (
            _one(conn, "INSERT INTO councils (code, slug, name, number_prefix) VALUES"
                       " (%s, %s, %s, %s) RETURNING id", row)[0]
            for row in (("UA1", "hromada-a", "А", "А"), ("UA2", "hromada-b", "Б", "Б"))
        )  # fmt: skip
        category = _one(conn, "INSERT INTO categories (code, name) VALUES ('k', 'Вид')"
                              " RETURNING id")[0]  # fmt: skip
        _appeal(conn, "А-П-1", a, category)
        _appeal(conn, "Б-П-2", b, category)
    bound = _principal_of(db_url, _create_user(db_url, "op-a@example.org", "operator", a))
    assert (bound.council_ids, bound.oblast, bound.every_council) == ((a,), False, False)
    assert council_scope(bound, "x") == ("x.council_id = ANY(%s)", [[a]])
    assert council_of(bound) == a
    assert _visible(db_url, bound) == {"А-П-1"}

    oblast = _principal_of(db_url, _create_user(db_url, "op@example.org", "operator", None))
    assert (oblast.council_ids, oblast.oblast, oblast.every_council) == ((), True, True)
    assert council_scope(oblast, "x") == ("true", [])
    assert council_of(oblast) is None
    assert _visible(db_url, oblast) == {"А-П-1", "Б-П-2"}

    # The defaults deny: a principal built without its councils sees nothing.
    assert council_scope(Principal(role="operator"), "x") == ("false", [])
    assert _visible(db_url, Principal(role="admin")) == set()


def test_in_a_one_council_install_bound_staff_see_every_council(db_url):
    with psycopg.connect(db_url, autocommit=True) as conn:
        a = _one(conn, "INSERT INTO councils (code, slug, name) VALUES ('UA1', 'hromada-a', 'А')"
                       " RETURNING id")[0]  # fmt: skip
    user = _create_user(db_url, "admin@example.org", "admin", None)  # the only council
    with psycopg.connect(db_url) as conn:
        assert _one(conn, "SELECT council_id FROM users WHERE id = %s", (user,))[0] == a
    principal = _principal_of(db_url, user)
    assert (principal.council_ids, principal.oblast, principal.every_council) == ((a,), False, True)
    # The scope's SQL is the role's alone, as before councils.
    assert appeal_scope(principal, "a") == ("true", [])


def test_a_member_of_staff_made_a_citizen_leaves_the_council(db_url):
    """The fuzz found it: an administrator making an executor a citizen was refused by the
    database (a citizen belongs to no council) as a 500."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        a = _one(conn, "INSERT INTO councils (code, slug, name) VALUES ('UA1', 'hromada-a', 'А')"
                       " RETURNING id")[0]  # fmt: skip
    user = _create_user(db_url, "operator@example.org", "operator", None)
    with psycopg.connect(db_url, autocommit=True) as conn:
        assert _one(conn, "SELECT council_id FROM users WHERE id = %s", (user,))[0] == a
        conn.execute("UPDATE users SET role = 'citizen' WHERE id = %s", (user,))
        assert _one(conn, "SELECT role, council_id FROM users WHERE id = %s", (user,)) == (
            "citizen", None)  # fmt: skip


def test_numbers_carry_the_council_prefix():
    assert councils.format_number("ЗП", "П", 6714) == "ЗП-П-6714"
    assert councils.format_number("", "П", 6714) == "П-6714"
    assert councils.slug_for(councils.KYIV_CODE) == "kyiv"
    assert councils.slug_for("UA23060070000082704") == "ua23060070000082704"
    with pytest.raises(Exception, match="council_occupied"):
        councils.check_open(
            councils.Council(1, "UA1", "a", "А", occupied_since=dt.date(2022, 3, 1))
        )


def test_the_migration_gives_each_appeal_the_council_covering_it(empty_db_url):
    """Several hromadas before 0018 (the slow path): a council each, by code (prefix '' for
    the first, X1 after); an appeal takes the council covering its point — the lower code on
    the shared border — and one without a place the first council."""
    upgrade(empty_db_url, "0017")
    square = "ST_Multi(ST_MakeEnvelope(%s, 50, %s, 50.1, 4326))"
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        for code, x0, x1 in (("UA2", 30.1, 30.2), ("UA1", 30.0, 30.1)):
            conn.execute(f"INSERT INTO hromadas (code, name, geom) VALUES (%s, %s, {square})",
                         (code, f"Громада {code}", x0, x1))  # fmt: skip
        category = _one(conn, "INSERT INTO categories (code, name) VALUES ('k', 'Вид')"
                              " RETURNING id")[0]  # fmt: skip
        conn.execute("INSERT INTO executors (code, name, kind) VALUES ('e', 'E', 'utility')")
        for number, lon in (("П-1", 30.05), ("П-2", 30.15), ("П-3", 30.1), ("П-4", None)):
            conn.execute(
                "INSERT INTO appeals (number, category_id, text, channel, deadline_at, geom)"
                " VALUES (%s, %s, 'Текст', 'site', now(), CASE WHEN %s::float8 IS NOT NULL"
                " THEN ST_SetSRID(ST_MakePoint(%s::float8, 50.05), 4326) END)",
                (number, category, lon, lon),
            )
    upgrade(empty_db_url)
    with psycopg.connect(empty_db_url) as conn:
        assert conn.execute(
            "SELECT code, slug, number_prefix FROM councils ORDER BY code"
        ).fetchall() == [("UA1", "ua1", ""), ("UA2", "ua2", "X1")]
        got = dict(conn.execute("SELECT a.number, k.code FROM appeals a"
                                " JOIN councils k ON k.id = a.council_id").fetchall())  # fmt: skip
        assert got == {"П-1": "UA1", "П-2": "UA2", "П-3": "UA1", "П-4": "UA1"}
        assert (
            _one(conn, "SELECT k.code FROM executors e JOIN councils k ON k.id = e.council_id")[0]
            == "UA1"
        )
        # Both councils offer the catalogue.
        assert _one(conn, "SELECT count(*) FROM council_categories")[0] == 2
