"""`hromada demo` on a real PostGIS with the real Kyiv files: deterministic, idempotent, and
shaped like Kyiv's 1551 data."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os

import psycopg
import pytest

from importers.demo import city_is_loaded, generate
from importers.demo.organisations import HOUSING_KINDS, normalise

NOW = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
APPEALS = 5_000
COMPARED = ("appeals", "appeal_authors", "wards", "deputies", "executors",
            "executor_territories", "routing_rules", "advertising_structures", "kiosks")  # fmt: skip
_counter = itertools.count()


def _database(server_url: str, template: str) -> tuple[str, str]:
    name = f"t_demo_{os.getpid()}_{next(_counter)}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return name, f"{server_url.rpartition('/')[0]}/{name}"


def _drop(server_url: str, name: str) -> None:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def demo_dbs(server_url, template_url, shared_data):
    """Three fresh databases: seed 1551 twice and seed 7 once, all with the same `now`."""
    template = template_url.rpartition("/")[2]
    made, out = [], {}
    try:
        for key, seed in (("a", 1551), ("b", 1551), ("c", 7)):
            name, url = _database(server_url, template)
            made.append(name)
            summary = generate(url, seed=seed, appeals=APPEALS, shared_dir=shared_data, now=NOW)
            out[key] = (url, summary)
        yield out
    finally:
        for name in made:
            _drop(server_url, name)


def _digests(url: str) -> dict[str, str]:
    with psycopg.connect(url) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        return {
            table: conn.execute(
                f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t.id), '')) FROM {table} t"
                if table != "appeal_authors" else
                "SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t.appeal_id), ''))"
                " FROM appeal_authors t"
            ).fetchone()[0]
            for table in COMPARED
        }  # fmt: skip


def _one(url: str, sql: str, params=None):
    with psycopg.connect(url) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        return conn.execute(sql, params).fetchone()


def _profile(shared_data) -> dict:
    return json.loads((shared_data / "kyiv_1551_profile.json").read_text(encoding="utf-8"))


def test_the_summary_counts_what_was_made(demo_dbs):
    url, summary = demo_dbs["a"]
    assert summary["appeals"] == APPEALS
    assert 100 <= summary["wards"] <= 120 and summary["deputies"] == summary["wards"]
    assert summary["advertising_structures"] >= 1500 and summary["kiosks"] >= 500
    assert summary["executors"] >= 10 * 4 + 10  # per district: РДА, КК, ≥3 ЖЕД; the city's
    json.dumps(summary)  # the CLI prints it
    assert _one(url, "SELECT count(*) FROM appeals WHERE generated")[0] == APPEALS
    assert _one(url, "SELECT count(*) FROM appeal_authors")[0] == APPEALS
    assert _one(url, "SELECT count(*) FROM appeal_events WHERE action = 'registered'")[0] == APPEALS


def test_same_seed_and_now_give_identical_data(demo_dbs):
    assert _digests(demo_dbs["a"][0]) == _digests(demo_dbs["b"][0])


def test_another_seed_gives_another_city(demo_dbs):
    a, c = _digests(demo_dbs["a"][0]), _digests(demo_dbs["c"][0])
    for table in ("appeals", "wards", "advertising_structures", "kiosks"):
        assert a[table] != c[table], table


def test_running_again_replaces_instead_of_adding(demo_dbs, shared_data):
    url, _ = demo_dbs["b"]
    before = _digests(url)
    counts = "SELECT (SELECT count(*) FROM appeals), (SELECT count(*) FROM wards), " \
             "(SELECT count(*) FROM executors), (SELECT count(*) FROM routing_rules), " \
             "(SELECT count(*) FROM executor_territories), (SELECT count(*) FROM kiosks), " \
             "(SELECT count(*) FROM advertising_structures), (SELECT count(*) FROM appeal_events)"  # fmt: skip
    n_before = _one(url, counts)
    generate(url, seed=1551, appeals=APPEALS, shared_dir=shared_data, now=NOW)
    assert _one(url, counts) == n_before
    assert _digests(url) == before  # only demo rows were there: even the ids come back


def test_a_real_appeal_survives_a_rerun_and_numbers_are_not_reused(demo_dbs, shared_data):
    url, _ = demo_dbs["c"]
    with psycopg.connect(url) as conn:
        number = f"П-{conn.execute('SELECT nextval(%s)', ('appeal_number_seq',)).fetchone()[0]}"
        assert (
            conn.execute("SELECT count(*) FROM appeals WHERE number = %s", (number,)).fetchone()[0]
            == 0
        )
        executor, rule = conn.execute(
            "SELECT executor_id, routing_rule_id FROM appeals WHERE generated AND geom IS NOT NULL"
            " ORDER BY id LIMIT 1"
        ).fetchone()
        conn.execute(
            "INSERT INTO appeals (number, category_id, text, channel, deadline_at, geom,"
            " executor_id, routing_rule_id) SELECT %s, min(id), 'real', 'site', now(),"
            " ST_SetSRID(ST_MakePoint(30.52, 50.45), 4326), %s, %s FROM categories",
            (number, executor, rule),
        )  # fmt: skip
        if conn.execute("SELECT to_regclass('personal_data_access')").fetchone()[0]:
            conn.execute(  # someone looked at a demo author: the log refers to a demo appeal
                "INSERT INTO personal_data_access (appeal_id, purpose)"
                " SELECT min(id), 'test' FROM appeals WHERE generated"
            )
    generate(url, seed=7, appeals=APPEALS, shared_dir=shared_data, now=NOW)
    row = _one(url, "SELECT executor_id, generated FROM appeals WHERE number = %s", (number,))
    assert row == (executor, False)
    assert _one(url, "SELECT count(*) FROM appeals WHERE generated")[0] == APPEALS
    assert _one(url, "SELECT count(*), count(DISTINCT number) FROM appeals") == (APPEALS + 1,) * 2
    highest = _one(url, "SELECT max(substring(number from '\\d+$')::bigint) FROM appeals")[0]
    assert _one(url, "SELECT last_value FROM appeal_number_seq")[0] >= highest


def test_wards_tile_the_city(demo_dbs):
    url, _ = demo_dbs["a"]
    city, union, total, n, generated = _one(url, """
        SELECT (SELECT ST_Area(geom::geography) FROM hromadas WHERE valid_to IS NULL),
               ST_Area(ST_Union(geom)::geography), sum(ST_Area(geom::geography)), count(*),
               bool_and(generated AND description ILIKE '%%згенеровано%%')
          FROM wards WHERE valid_to IS NULL""")  # fmt: skip
    assert 100 <= n <= 120 and generated
    assert abs(union - city) / city < 1e-6  # covers the city
    assert (total - union) / city < 1e-6  # without overlaps
    assert _one(url, "SELECT bool_and(ST_IsValid(geom)) FROM wards")[0]
    assert _one(url, "SELECT count(*) FROM deputies WHERE generated")[0] == n


def test_housing_offices_tile_their_district(demo_dbs):
    url, _ = demo_dbs["a"]
    rows = _one(url, """
        SELECT count(*), max(abs(o.area - ST_Area(d.geom::geography)) / ST_Area(d.geom::geography)),
               min(o.n)
          FROM districts d
          JOIN LATERAL (SELECT sum(ST_Area(t.geom::geography)) AS area, count(*) AS n
                          FROM executor_territories t JOIN executors e ON e.id = t.executor_id
                         WHERE e.district_code = d.code AND e.parent_id IS NOT NULL
                           AND e.code LIKE 'demo-zhed-%%') o ON true""")  # fmt: skip
    assert rows[0] == 10 and rows[1] < 1e-6 and rows[2] >= 3


def test_every_located_appeal_is_placed_and_routed(demo_dbs):
    url, _ = demo_dbs["a"]
    located, no_district, no_ward, no_executor, no_reason, outside = _one(url, """
        SELECT count(*), count(*) FILTER (WHERE district_id IS NULL),
               count(*) FILTER (WHERE ward_id IS NULL), count(*) FILTER (WHERE executor_id IS NULL),
               count(*) FILTER (WHERE routing_reason IS NULL OR routing_rule_id IS NULL),
               count(*) FILTER (WHERE NOT ST_Covers(
                   (SELECT geom FROM districts d WHERE d.id = a.district_id), a.geom))
          FROM appeals a WHERE geom IS NOT NULL""")  # fmt: skip
    assert located > 0.7 * APPEALS
    assert (no_district, no_ward, no_executor, no_reason, outside) == (0, 0, 0, 0, 0)
    # Appeals without a place still reach someone: the contact centre, or a city utility.
    assert (
        _one(url, "SELECT count(*) FROM appeals WHERE geom IS NULL AND executor_id IS NULL")[0] == 0
    )
    assert _one(url, "SELECT count(*) FROM appeals WHERE geom IS NULL")[0] > 0.1 * APPEALS


def test_housing_questions_go_to_the_housing_office_of_the_place(demo_dbs):
    url, _ = demo_dbs["a"]
    with psycopg.connect(url) as conn:
        rows = conn.execute("""
            SELECT coalesce(p.name, c.name), e.kind,
                   EXISTS (SELECT 1 FROM executor_territories t
                            WHERE t.executor_id = e.id AND ST_Covers(t.geom, a.geom))
              FROM appeals a
              JOIN categories c ON c.id = a.category_id
              LEFT JOIN categories p ON p.id = c.parent_id
              JOIN executors e ON e.id = a.executor_id
             WHERE a.geom IS NOT NULL""").fetchall()  # fmt: skip
    housing = {normalise(k) for k in HOUSING_KINDS}
    to_office = [(kind, covers) for name, kind, covers in rows if normalise(name) in housing]
    assert to_office and all(k == "housing_office" and covers for k, covers in to_office)
    lifts = {kind for name, kind, _ in rows if name == "Ліфт"}
    assert lifts == {"utility"}


def test_category_mix_follows_the_profile(demo_dbs, shared_data):
    url, _ = demo_dbs["a"]
    months = _profile(shared_data)["kinds_top40"]
    kinds = sorted({r["kind"] for rows in months.values() for r in rows})
    expected = {k: 0.0 for k in kinds}
    for rows in months.values():
        total = sum(r["count"] for r in rows)
        for r in rows:
            expected[r["kind"]] += r["count"] / total / len(months)
    with psycopg.connect(url) as conn:
        got = dict(conn.execute("""
            SELECT coalesce(p.name, c.name), count(*)::float / (SELECT count(*) FROM appeals)
              FROM appeals a JOIN categories c ON c.id = a.category_id
              LEFT JOIN categories p ON p.id = c.parent_id GROUP BY 1""").fetchall())  # fmt: skip
    assert max(got, key=got.get) == "Гаряче водопостачання"
    for kind, share in expected.items():
        assert abs(got.get(kind, 0.0) - share) < 0.015, (kind, got.get(kind), share)


def test_channel_mix_follows_the_profile(demo_dbs, shared_data):
    url, _ = demo_dbs["a"]
    channels = _profile(shared_data)["channels"]
    names = {
        "Сайт/моб. додаток": "site",
        "Дзвінок в 1551": "phone_1551",
        "УГЛ": "government_hotline",
    }
    with psycopg.connect(url) as conn:
        got = dict(conn.execute(
            "SELECT channel, count(*)::float / (SELECT count(*) FROM appeals) FROM appeals GROUP BY 1"
        ).fetchall())  # fmt: skip
    for name, code in names.items():
        share = sum(
            next((r["count"] for r in rows if r["channel"] == name), 0) / sum(r["count"] for r in rows)
            for rows in channels.values()
        ) / len(channels)  # fmt: skip
        assert abs(got[code] - share) < 0.03, (code, got[code], share)
    assert set(got) <= {"site", "phone_1551", "government_hotline", "email", "tv", "112"}


def test_a_year_that_looks_like_1551(demo_dbs):
    url, _ = demo_dbs["a"]
    (first, last, numbers, distinct, bad_close, bad_deadline, closed, open_, thanks, public,
     winter, summer) = _one(url, """
        SELECT min(created_at), max(created_at), count(number), count(DISTINCT number),
               count(*) FILTER (WHERE closed_at <= created_at OR (status = 'closed') <> (closed_at IS NOT NULL)),
               count(*) FILTER (WHERE deadline_at <> created_at + make_interval(days => c.deadline_days)),
               count(*) FILTER (WHERE status = 'closed'), count(*) FILTER (WHERE status <> 'closed'),
               count(*) FILTER (WHERE a.kind = 'thanks'), avg(is_public::int),
               count(*) FILTER (WHERE extract(month FROM created_at) IN (1, 2)),
               count(*) FILTER (WHERE extract(month FROM created_at) IN (7, 8))
          FROM appeals a JOIN categories c ON c.id = a.category_id""")  # fmt: skip
    assert NOW - dt.timedelta(days=366) <= first and last < NOW
    assert numbers == distinct == APPEALS
    assert (bad_close, bad_deadline) == (0, 0)
    assert 0.85 < closed / APPEALS < 0.99 and open_ > 0
    assert 0 < thanks < 0.03 * APPEALS
    assert 0.8 < public < 0.95
    assert winter > 1.5 * summer  # the heating season
    statuses = {r for (r,) in psycopg.connect(url).execute("SELECT DISTINCT status FROM appeals")}
    assert statuses == {"registered", "in_work", "on_check", "rework", "closed"}
    pattern = _one(url, "SELECT bool_and(number ~ '^[А-ЯІЇЄҐ]-[0-9]+$') FROM appeals")[0]
    assert pattern


def test_structures_sit_in_the_city_with_some_permits_expired(demo_dbs):
    url, _ = demo_dbs["a"]
    for table in ("advertising_structures", "kiosks"):
        n, inside, expired, generated = _one(url, f"""
            SELECT count(*),
                   count(*) FILTER (WHERE ST_Covers((SELECT geom FROM hromadas
                                                      WHERE valid_to IS NULL), ST_Centroid(t.geom))),
                   count(*) FILTER (WHERE permit_valid_until < %s), bool_and(generated)
              FROM {table} t""", (NOW.date(),))  # fmt: skip
        assert n > 500 and inside == n and generated
        assert 0.05 * n < expired < 0.4 * n, (table, expired)
    kinds = {
        r
        for (r,) in psycopg.connect(url).execute("SELECT DISTINCT kind FROM advertising_structures")
    }
    assert {"billboard", "citylight"} <= kinds


def test_core_layers_are_registered(demo_dbs):
    url, _ = demo_dbs["a"]
    with psycopg.connect(url) as conn:
        rows = dict(conn.execute(
            "SELECT name, kind FROM layers WHERE name IN ('districts', 'wards',"
            " 'executor_territories', 'advertising_structures', 'kiosks', 'appeals')"
        ).fetchall())  # fmt: skip
        described = conn.execute(
            "SELECT bool_and(description ILIKE '%%демо%%' AND owner_department IS NOT NULL"
            " AND last_updated IS NOT NULL) FROM layers WHERE name IN ('wards', 'appeals', 'kiosks')"
        ).fetchone()[0]  # fmt: skip
    assert set(rows) == {"districts", "wards", "executor_territories", "advertising_structures",
                         "kiosks", "appeals"} and set(rows.values()) == {"core"}  # fmt: skip
    assert described


def test_city_is_loaded(db_url, demo_dbs):
    assert not city_is_loaded(db_url)
    assert city_is_loaded(demo_dbs["a"][0])
