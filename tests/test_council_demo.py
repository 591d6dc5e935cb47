"""Issue 17, slice D: Мінрегіон's hromada boundaries and the region demo (importers/demo/
region.py), and the public councils API (api/routers/councils.py)."""

from __future__ import annotations

import psycopg
import pytest

from gis import lifecycle
from gis.db import libpq_url
from importers import run_import
from importers.demo import region
from tests.conftest import TWO_COUNCILS

OBLAST = "zaporizka_hromadas_minregion_atu_simplified_2024-04-28.geojson"
KYIV = "kyiv_city_boundary_osm_2026-07-29.geojson"
KYIV_CODE = "UA80000000000093317"
BERDIANSK = "UA23020050000046501"  # in the demo's (example) occupied list


def q(url: str, query: str, *params) -> list[tuple]:
    with psycopg.connect(libpq_url(url)) as conn:
        return conn.execute(query, params or None).fetchall()


def test_oblast_import_keeps_kyiv_and_credits_minregion(db_url, shared_data):
    run_import(db_url, shared_data / KYIV, "hromadas")
    report = run_import(db_url, shared_data / OBLAST, "hromadas")
    assert (report.added, report.removed, report.rejected) == (67, 0, 0)
    current = dict(q(db_url, "SELECT code, name FROM hromadas WHERE valid_to IS NULL"))
    assert len(current) == 68 and current[KYIV_CODE] == "Київ", "Kyiv survives the oblast file"
    assert current[TWO_COUNCILS[0]] == "Запорізька міська територіальна громада"
    assert q(db_url, "SELECT source, attribution FROM layers WHERE name = 'hromadas'") == [
        ("Мінрегіон, атлас АТУ (via vadymnes/gis_files @ 8965f6ec)", "© Мінрегіон (CC BY-SA)")
    ]
    # Importing Kyiv again replaces Kyiv only; the oblast again changes nothing.
    again = run_import(db_url, shared_data / KYIV, "hromadas")
    assert (again.unchanged, again.removed) == (1, 0)
    again = run_import(db_url, shared_data / OBLAST, "hromadas")
    assert (again.unchanged, again.removed) == (67, 0)
    assert q(db_url, "SELECT count(*) FROM hromadas WHERE valid_to IS NULL") == [(68,)]


def test_names_prefixes_and_occupied_list():
    assert region.slug_from("Запорізька") == "zaporizka"
    assert region.slug_from("Кам'янсько-Дніпровська") == "kamiansko-dniprovska"
    assert region.slug_from("Якимівська") == "yakymivska"
    assert next(iter(region.prefix_candidates("Кушугумська"))) == "КШ"
    occupied = region.read_occupied()
    assert BERDIANSK in occupied and TWO_COUNCILS[0] not in occupied
    assert all(source == "демо: приклад, не офіційний перелік" for _, source in occupied.values())


def test_region_demo(two_councils, db_url, shared_data):
    url = two_councils
    assert q(url, "SELECT count(*) FROM hromadas WHERE valid_to IS NULL AND code LIKE 'UA23%'") == [
        (67,)
    ]
    councils = q(
        url, "SELECT code, slug, number_prefix, occupied_since FROM councils ORDER BY code"
    )
    assert councils == [
        (TWO_COUNCILS[0], "zaporizka", "ЗП", None),
        (TWO_COUNCILS[1], "kushuhumska", "КШ", None),
    ]
    # Each council: its own executors, wards 1–3 (the same numbers in both), a deputy each.
    wards = q(url, "SELECT k.slug, array_agg(w.number ORDER BY w.number) FROM wards w"
                   " JOIN councils k ON k.id = w.council_id WHERE w.valid_to IS NULL GROUP BY 1"
                   " ORDER BY 1")  # fmt: skip
    assert wards == [("kushuhumska", [1, 2, 3]), ("zaporizka", [1, 2, 3])]
    assert q(url, "SELECT count(*) FROM deputies GROUP BY council_id") == [(3,), (3,)]
    # Appeals: all generated, numbered with the council's prefix, inside its polygon, sent to
    # an executor of the same council; Запорізька has the most.
    rows = q(url, """
        SELECT k.number_prefix, count(*),
               bool_and(a.number LIKE k.number_prefix || '-%'),
               bool_and(ST_Covers(h.geom, a.geom)), bool_and(e.council_id = a.council_id),
               bool_and(a.generated), count(a.ward_id)
          FROM appeals a JOIN councils k ON k.id = a.council_id
          JOIN hromadas h ON h.code = k.code AND h.valid_to IS NULL
          JOIN executors e ON e.id = a.executor_id
         GROUP BY 1 ORDER BY 2 DESC""")  # fmt: skip
    assert [r[0] for r in rows] == ["ЗП", "КШ"] and sum(r[1] for r in rows) == 800
    assert all(r[2] and r[3] and r[4] and r[5] for r in rows)
    located = q(url, "SELECT count(*), count(ward_id) FROM appeals WHERE geom IS NOT NULL")
    assert located[0][0] == located[0][1], "every point lies in one of its council's wards"
    # Own sub-kind «(демо)» per council, and ~70% of the shared catalogue.
    own = q(
        url, "SELECT count(*) FROM categories WHERE council_id IS NOT NULL AND name LIKE '%(демо)'"
    )
    assert own == [(2,)]

    # Deterministic: the same seed and councils in another database give the same rows.
    region.generate_region(db_url, "zaporizka", seed=17, appeals=800, councils=TWO_COUNCILS)
    assert region.digest(db_url) == region.digest(url)


def _pages(
    url: str, council_id: int, slug: str, executor_ids: tuple[int, ...]
) -> tuple[dict, dict]:
    """The curator's queue counts and the manager's bucket totals of one council, counted by
    the functions the pages call (gis/curator.counts, gis/manager.summary) for a curator bound
    to it and a manager of all its organisations."""
    import asyncio

    from api.policy import Principal
    from gis import curator, manager

    async def run() -> tuple[dict, dict]:
        async with await psycopg.AsyncConnection.connect(libpq_url(url)) as conn:
            queues = await curator.counts(
                conn, Principal(user_id=1, role="curator", council_ids=(council_id,))
            )
            buckets = await manager.summary(conn, Principal(
                user_id=2, role="manager", executor_ids=executor_ids, council_ids=(council_id,)
            ))  # fmt: skip
        by_code = {r["code"]: r for r in buckets["rows"]}
        return queues["counts"], {**buckets["total"], "committee": by_code.get(f"{slug}-vk")}

    return asyncio.run(run())


def test_region_demo_gives_the_contact_centre_its_day(two_councils):
    """Every council's curator and manager pages have work: answers awaiting the curator and
    the author, returns as not in competence, appeals with no place or no executor, overdue,
    due within 2 days, under control, a longer term asked for; the trail agrees with the
    appeals (the Kyiv profile's mix; importers/demo/region._lifecycle)."""
    url = two_councils
    for council_id, slug in q(url, "SELECT id, slug FROM councils ORDER BY code"):
        executors = tuple(r[0] for r in q(
            url, "SELECT id FROM executors WHERE council_id = %s ORDER BY id", council_id
        ))  # fmt: skip
        queues, buckets = _pages(url, council_id, slug, executors)
        assert all(queues[k] > 0 for k in ("check", "not_competent", "no_location",
                                          "no_executor")), (slug, queues)  # fmt: skip
        assert all(buckets[k] > 0 for k in ("overdue", "due_2d", "control", "extension")), (
            slug, buckets,
        )  # fmt: skip
        awaiting_author = q(url, "SELECT count(*) FROM appeals WHERE council_id = %s"
                                 " AND status = 'on_check' AND result = %s",
                            council_id, lifecycle.R_DONE_AWAITING)  # fmt: skip
        assert awaiting_author[0][0] > 0, slug
        # The demo executor's organisation (the executive committee) has its own work: overdue,
        # a longer term asked for, an answer returned for rework.
        committee = buckets["committee"]
        assert committee and committee["overdue"] > 0 and committee["extension"] > 0, slug
        rework = q(url, "SELECT count(*) FROM appeals a JOIN executors e ON e.id = a.executor_id"
                        " WHERE a.council_id = %s AND a.status = 'rework' AND e.code = %s",
                   council_id, f"{slug}-vk")  # fmt: skip
        assert rework[0][0] > 0, slug
    # The answers awaiting the author are recent: the autoclose job (10 days) keeps them.
    assert q(url, "SELECT count(*) FROM appeals WHERE status = 'on_check' AND result = %s"
                  " AND answered_at < now() - interval '9 days'",
             lifecycle.R_DONE_AWAITING) == [(0,)]  # fmt: skip
    # The trail: each appeal's last status-changing event leaves it in its status and result;
    # a return names the contact centre that holds the appeal; answers carry their text.
    stray = q(url, """
        SELECT a.number, a.status, a.result, e.action, e.new FROM appeals a
          JOIN LATERAL (SELECT action, new FROM appeal_events
                         WHERE appeal_id = a.id AND new ? 'status' OR appeal_id = a.id
                           AND action = 'return'
                         ORDER BY at DESC, id DESC LIMIT 1) e ON true
         WHERE coalesce(e.new ->> 'status', 'registered') <> a.status
            OR (e.new ->> 'result' IS NOT NULL AND e.new ->> 'result' <> a.result)
            OR (e.action = 'return' AND (e.new ->> 'executor_id')::int <> a.executor_id)
         LIMIT 5""")  # fmt: skip
    assert stray == [], stray
    assert q(
        url,
        "SELECT count(*) FROM appeals a WHERE NOT EXISTS (SELECT 1 FROM appeal_events"
        " e WHERE e.appeal_id = a.id AND e.action = 'registered')",
    ) == [(0,)]
    assert q(url, "SELECT count(*) FROM appeal_events WHERE action = 'answer'"
                  " AND (new ->> 'answer') IS NULL") == [(0,)]  # fmt: skip
    # The Kyiv mix: privileged authors, several channels, a share with no place.
    mix = q(url, "SELECT count(*) FILTER (WHERE privileged), count(DISTINCT channel),"
                 " count(*) FILTER (WHERE geom IS NULL) FROM appeals")  # fmt: skip
    assert mix[0][0] > 0 and mix[0][1] >= 3 and mix[0][2] > 0, mix


def test_occupied_council_and_api(db_url, shared_data, tmp_path):
    from fastapi.testclient import TestClient

    from api import create_app
    from gis.settings import Settings

    summary = region.generate_region(
        db_url, "zaporizka", seed=5, appeals=60, councils=(TWO_COUNCILS[1], BERDIANSK)
    )
    assert summary["occupied"] == [BERDIANSK]
    assert q(db_url, "SELECT count(*) FROM appeals a JOIN councils k ON k.id = a.council_id"
                     " WHERE k.code = %s", BERDIANSK) == [(0,)]  # fmt: skip
    assert q(db_url, "SELECT count(*) FROM executors e JOIN councils k ON k.id = e.council_id"
                     " WHERE k.code = %s", BERDIANSK) == [(0,)]  # fmt: skip

    from importers.demo import accounts

    made = {a.login: a for a in accounts.create(db_url, 5, demo_mode=True)}
    assert {"operator-kushuhumska@demo.hromada", "deputy-kushuhumska@demo.hromada",
            "oblast-admin@demo.hromada"} <= set(made)  # fmt: skip
    assert not any("berdianska" in login for login in made), "no staff in an occupied council"
    bound = dict(q(db_url, "SELECT u.email, k.slug FROM users u LEFT JOIN councils k"
                           " ON k.id = u.council_id WHERE u.is_demo"))  # fmt: skip
    role = dict(q(db_url, "SELECT email, role FROM users WHERE is_demo"))
    assert bound["planner-kushuhumska@demo.hromada"] == "kushuhumska"
    assert role["planner-kushuhumska@demo.hromada"] == "planner"
    assert bound["operator-kushuhumska@demo.hromada"] == "kushuhumska"
    assert bound["executor-kushuhumska@demo.hromada"] == "kushuhumska"
    assert bound["oblast-curator@demo.hromada"] is None

    with TestClient(
        create_app(Settings(database_url=db_url, data_dir=tmp_path, rate_limits_enabled=False))
    ) as c:
        body = c.get("/api/v1/councils").json()
        assert body["attribution"] == "© Мінрегіон (CC BY-SA)"
        by_code = {i["code"]: i for i in body["items"]}
        assert by_code[BERDIANSK]["occupied"] and by_code[BERDIANSK]["slug"] == "berdianska"
        assert not by_code[TWO_COUNCILS[1]]["occupied"]
        one = c.get("/api/v1/councils/BERDIANSKA").json()
        assert one["occupied_since"] == "2022-02-24"
        assert one["occupied_source"] == "демо: приклад, не офіційний перелік"
        west, south, east, north = one["extent"]["bbox"]
        assert 34 < west < east < 38 and 46 < south < north < 48.5
        missing = c.get("/api/v1/councils/no-such-council", headers={"Accept-Language": "en"})
        assert missing.status_code == 404 and missing.json()["code"] == "council_not_found"


@pytest.mark.parametrize("bad", ["kyiv", "nowhere"])
def test_unknown_region_refused(db_url, bad):
    from importers.report import ImportFailed

    with pytest.raises(ImportFailed):
        region.generate_region(db_url, bad, appeals=1)
