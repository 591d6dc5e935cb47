"""The reports (GET /api/v1/reports/{name}, gis/reports.py) on a real demo city: every report's
figures equal direct SQL counts for several filters, a kind equals the sum of its sub-kinds, each
role sees its scope only, CSV and XLSX read back with csv and openpyxl, titles in English, and
bad values are 400 or 404 with a message."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import itertools
import json
import math
import statistics
import time
import zoneinfo

import psycopg
import pytest
from conftest import demo_city
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from api import create_app
from gis import accounts
from gis.db import libpq_url
from gis.lifecycle import R_CONFIRMED, R_REWORK_CURATOR
from gis.settings import Settings

_counter = itertools.count()
URL = "/api/v1/reports/"
KYIV = zoneinfo.ZoneInfo("Europe/Kyiv")
DUE = "coalesce(a.extended_until, a.deadline_at)"
ANSWERED = "coalesce(a.answered_at, a.closed_at)"


@pytest.fixture(scope="module")
def demo_url(server_url, template_url, shared_data):
    with demo_city(
        server_url, template_url, shared_data, "reports", seed=23, appeals=900, now=None
    ) as url:
        yield url


@pytest.fixture(scope="module")
def client(demo_url, tmp_path_factory):
    settings = Settings(database_url=demo_url, data_dir=tmp_path_factory.mktemp("reports"),
                        rate_limits_enabled=False)  # fmt: skip
    with TestClient(create_app(settings)) as c:
        yield c


def sql(url: str, query: str, params=None) -> list[tuple]:
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(query, params)
        return cur.fetchall() if cur.description else []


def token(url: str, role: str, **binding) -> dict:
    n = next(_counter)

    async def main():
        async with await psycopg.AsyncConnection.connect(libpq_url(url), autocommit=True) as c:
            uid = await accounts.create_user(
                c, email=f"{role}-{n}@reports.test", password=None,
                full_name=f"Тестовий {role}", role=role, confirmed=True, **binding,
            )  # fmt: skip
            s = await accounts.create_session(c, user_id=uid, kind="bearer", ip=None,
                                              user_agent="pytest", ttl=dt.timedelta(hours=1))  # fmt: skip
            return {"Authorization": f"Bearer {s.token}"}

    return asyncio.run(main())


@pytest.fixture(scope="module")
def admin(demo_url) -> dict:
    return token(demo_url, "admin")


@pytest.fixture(scope="module")
def setup(demo_url) -> dict:
    """Some history the demo city lacks: appeals answered (answered_at), returned for rework by
    the curator (events), confirmed by their author, and a few open ones overdue."""
    ids = [r[0] for r in sql(demo_url, "SELECT id FROM appeals ORDER BY id")]
    answered = ids[::7][:60]
    sql(demo_url, "UPDATE appeals SET answered_at = created_at + make_interval(days => (id %% 20)::int)"
                  " WHERE id = ANY(%s)", (answered,))  # fmt: skip
    sql(demo_url, "UPDATE appeals SET result = %s, status = 'closed',"
                  " closed_at = coalesce(closed_at, created_at + interval '3 days')"
                  " WHERE id = ANY(%s)", (R_CONFIRMED, ids[::11][:40]))  # fmt: skip
    for appeal_id in ids[::13][:25]:
        sql(demo_url, "INSERT INTO appeal_events (appeal_id, actor, action, old, new) VALUES"
                      " (%s, 'test', 'rework', '{\"status\": \"on_check\"}',"
                      " jsonb_build_object('status', 'rework', 'result', %s::text))",
            (appeal_id, R_REWORK_CURATOR))  # fmt: skip
    sql(demo_url, "UPDATE appeals SET status = 'in_work', closed_at = NULL, extended_until = NULL,"
                  " deadline_at = now() - make_interval(days => (id %% 9 + 1)::int)"
                  " WHERE id = ANY(%s)", (ids[5::17][:30],))  # fmt: skip
    return {"ids": ids}


def get(client, name: str, headers: dict, **params) -> dict:
    r = client.get(URL + name, params=params, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def window(demo_url) -> tuple[str, str]:
    """A two-month window of Kyiv days inside the demo year."""
    last = sql(demo_url, "SELECT max((created_at AT TIME ZONE 'Europe/Kyiv')::date) FROM appeals")
    end = last[0][0] - dt.timedelta(days=30)
    return (end - dt.timedelta(days=60)).isoformat(), end.isoformat()


def where(demo_url, *, date_from=None, date_to=None, district=None, channel=None,
          category=None) -> tuple[str, list]:  # fmt: skip
    """The filters as independent SQL over `appeals a`."""
    parts, params = ["true"], []
    if date_from:
        parts.append("(a.created_at AT TIME ZONE 'Europe/Kyiv')::date >= %s::date")
        params.append(date_from)
    if date_to:
        parts.append("(a.created_at AT TIME ZONE 'Europe/Kyiv')::date <= %s::date")
        params.append(date_to)
    if district:
        parts.append("a.district_id IN (SELECT id FROM districts WHERE code = %s)")
        params.append(district)
    if channel:
        parts.append("a.channel = %s")
        params.append(channel)
    if category:
        parts.append("a.category_id IN (SELECT id FROM categories WHERE id = %s OR parent_id = %s)")
        params += [category, category]
    return " AND ".join(parts), params


def combos(demo_url) -> list[dict]:
    date_from, date_to = window(demo_url)
    district = sql(demo_url, "SELECT d.code FROM appeals a JOIN districts d ON d.id = a.district_id"
                             " GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")[0][0]  # fmt: skip
    return [
        {},
        {"date_from": date_from, "date_to": date_to, "channel": "phone_1551"},
        {"district": district, "date_from": date_from},
    ]


# --- the figures -------------------------------------------------------------------------------


def test_districts_by_kind_and_by_category_equal_sql(client, demo_url, admin, setup):
    for f in combos(demo_url):
        w, p = where(demo_url, **f)
        for by, group in (("kind", "coalesce(c.parent_id, c.id)"), ("category", "c.id")):
            body = get(client, "districts-by-category", admin, by=by, **f)
            expected = {
                (code, f"c{col}"): n
                for code, col, n in sql(demo_url,
                    f"SELECT d.code, {group}, count(*) FROM appeals a"
                    f" JOIN categories c ON c.id = a.category_id"
                    f" LEFT JOIN districts d ON d.id = a.district_id WHERE {w} GROUP BY 1, 2", p)
            }  # fmt: skip
            got = {
                (row["district_code"], c["key"]): row[c["key"]]
                for row in body["rows"] for c in body["columns"]
                if c["key"].startswith("c") and row[c["key"]]
            }  # fmt: skip
            assert got == expected and expected
            total = sql(demo_url, f"SELECT count(*) FROM appeals a WHERE {w}", p)[0][0]
            assert body["totals"]["total"] == total == sum(r["total"] for r in body["rows"])
            for c in body["columns"][2:]:
                assert body["totals"][c["key"]] == sum(r[c["key"]] for r in body["rows"])


def test_a_kind_stands_for_the_sum_of_its_sub_kinds(client, demo_url, admin, setup):
    kind, subs = sql(demo_url, "SELECT k.id, array_agg(c.id) FROM categories k JOIN categories c"
                               " ON c.parent_id = k.id JOIN appeals a ON a.category_id = c.id"
                               " WHERE k.parent_id IS NULL GROUP BY k.id"
                               " HAVING count(DISTINCT c.id) > 1 ORDER BY count(*) DESC LIMIT 1")[0]  # fmt: skip
    for name, key in (("executors", "received"), ("wards", "received"), ("channels", "received")):
        whole = get(client, name, admin, category=kind)["totals"][key]
        parts = sum(get(client, name, admin, category=s)["totals"][key] for s in set(subs))
        assert whole == parts > 0, name
    results = get(client, "results", admin, category=kind)["totals"]["count"]
    assert results == sql(demo_url, "SELECT count(*) FROM appeals WHERE category_id = ANY(%s)",
                          (subs,))[0][0]  # fmt: skip


def test_executors_equal_sql(client, demo_url, admin, setup):
    for f in combos(demo_url):
        w, p = where(demo_url, **f)
        body = get(client, "executors", admin, **f)
        rows = {r["executor_code"]: r for r in body["rows"]}
        expected = sql(demo_url,
            f"SELECT e.code, count(*), count(*) FILTER (WHERE a.status <> 'closed'),"
            f" count(*) FILTER (WHERE {ANSWERED} <= {DUE}),"
            f" count(*) FILTER (WHERE a.status <> 'closed' AND {DUE} < now()),"
            f" count(*) FILTER (WHERE a.result = %s),"
            f" count(*) FILTER (WHERE {ANSWERED} IS NOT NULL),"
            f" array_remove(array_agg(extract(epoch FROM {ANSWERED} - a.created_at) / 86400.0),"
            f"  NULL)"
            f" FROM appeals a LEFT JOIN executors e ON e.id = a.executor_id WHERE {w}"
            f" GROUP BY 1", [R_CONFIRMED, *p])  # fmt: skip
        assert set(rows) == {r[0] for r in expected}
        for code, received, in_work, on_time, overdue, confirmed, answered, days in expected:
            row = rows[code]
            assert (row["received"], row["in_work"], row["answered_on_time"], row["overdue"],
                    row["confirmed"], row["answered"]) == (
                received, in_work, on_time, overdue, confirmed, answered)  # fmt: skip
            if days:
                assert row["mean_days"] == round(statistics.mean(float(d) for d in days), 1)
                assert row["median_days"] == round(statistics.median(float(d) for d in days), 1)
                assert row["confirmed_share"] == round(confirmed / answered, 3)
        reworks = sql(demo_url, f"SELECT count(*) FROM appeal_events ev JOIN appeals a"
                                f" ON a.id = ev.appeal_id WHERE ev.action = 'rework'"
                                f" AND ev.new->>'result' = %s AND {w}", [R_REWORK_CURATOR, *p])[0][0]  # fmt: skip
        assert body["totals"]["returned_by_curator"] == reworks
        assert body["totals"]["received"] == sum(r["received"] for r in body["rows"])
    assert get(client, "executors", admin)["totals"]["returned_by_curator"] == 25


def test_overdue_channels_results_and_wards_equal_sql(client, demo_url, admin, setup):
    for f in combos(demo_url):
        w, p = where(demo_url, **f)
        listed = get(client, "overdue", admin, **f)["rows"]
        expected = dict(sql(demo_url,
            f"SELECT a.number, (now() AT TIME ZONE 'Europe/Kyiv')::date"
            f" - ({DUE} AT TIME ZONE 'Europe/Kyiv')::date FROM appeals a"
            f" WHERE a.status <> 'closed' AND {DUE} < now() AND {w}", p))  # fmt: skip
        assert {r["number"]: r["days_overdue"] for r in listed} == expected
        assert all(set(r) == {"number", "category", "status", "district", "ward", "executor_code",
                              "executor", "registered", "due", "days_overdue"} for r in listed)  # fmt: skip

        by_channel = {r["channel_code"]: (r["received"], r["open"], r["closed"], r["overdue"])
                      for r in get(client, "channels", admin, **f)["rows"]}  # fmt: skip
        assert by_channel == {c: tuple(v) for c, *v in sql(demo_url,
            f"SELECT a.channel, count(*), count(*) FILTER (WHERE a.status <> 'closed'),"
            f" count(*) FILTER (WHERE a.status = 'closed'),"
            f" count(*) FILTER (WHERE a.status <> 'closed' AND {DUE} < now())"
            f" FROM appeals a WHERE {w} GROUP BY 1", p)}  # fmt: skip

        results = get(client, "results", admin, **f)
        counts = dict(sql(demo_url, f"SELECT coalesce(a.result, 'Без результату'), count(*)"
                                    f" FROM appeals a WHERE {w} GROUP BY 1", p))  # fmt: skip
        assert {r["result"]: r["count"] for r in results["rows"]} == counts
        assert results["totals"]["count"] == sum(counts.values())

        ward_rows = get(client, "wards", admin, **f)["rows"]
        by_ward = {r["ward"]: (r["received"], r["open"], r["overdue"])
                   for r in ward_rows if r["received"]}  # fmt: skip
        assert by_ward == {n: tuple(v) for n, *v in sql(demo_url,
            f"SELECT w.number, count(*), count(*) FILTER (WHERE a.status <> 'closed'),"
            f" count(*) FILTER (WHERE a.status <> 'closed' AND {DUE} < now())"
            f" FROM appeals a LEFT JOIN wards w ON w.id = a.ward_id WHERE {w} GROUP BY 1", p)}  # fmt: skip
        # Every ward of the city has its row, zero or not (the dashboard's choropleth).
        current = {n for (n,) in sql(demo_url, "SELECT number FROM wards WHERE valid_to IS NULL")}
        listed = [r["ward"] for r in ward_rows if r["ward"] is not None]
        assert sorted(listed) == listed and set(listed) == current


def test_districts_equal_sql(client, demo_url, admin, setup):
    """Per district: received, open, overdue now, answered on time; every district of the city
    has its row (zero or not), the appeals outside every district theirs when there are any."""
    sql(demo_url, "UPDATE appeals SET district_id = NULL WHERE id = ANY(%s)",
        (setup["ids"][3::50],))  # fmt: skip
    current = dict(sql(demo_url, "SELECT code, name FROM districts WHERE valid_to IS NULL"))
    assert len(current) > 3
    for f in [*combos(demo_url), {"channel": "site", "category": _commonest_kind(demo_url)}]:
        w, p = where(demo_url, **f)
        body = get(client, "districts", admin, **f)
        expected = {code: tuple(v) for code, *v in sql(demo_url,
            f"SELECT d.code, count(*), count(*) FILTER (WHERE a.status <> 'closed'),"
            f" count(*) FILTER (WHERE a.status <> 'closed' AND {DUE} < now()),"
            f" count(*) FILTER (WHERE {ANSWERED} <= {DUE})"
            f" FROM appeals a LEFT JOIN districts d ON d.id = a.district_id WHERE {w}"
            f" GROUP BY 1", p)}  # fmt: skip
        got = {r["district_code"]: (r["received"], r["open"], r["overdue"], r["answered_on_time"])
               for r in body["rows"]}  # fmt: skip
        assert {k: v for k, v in got.items() if v[0]} == expected and expected, f
        assert set(current) <= set(got) and set(got) - set(current) <= {None}
        assert (None in got) == (None in expected)
        assert all(got[code] == (0, 0, 0, 0) for code in set(current) - set(expected))
        assert {r["district"] for r in body["rows"] if r["district_code"]} == set(current.values())
        if None in got:
            assert body["rows"][-1]["district"] == "Поза районами"
        assert [c["key"] for c in body["columns"]] == [
            "district_code",
            "district",
            "received",
            "open",
            "overdue",
            "answered_on_time",
        ]
        for key in ("received", "open", "overdue", "answered_on_time"):
            assert body["totals"][key] == sum(v[["received", "open", "overdue",
                                                 "answered_on_time"].index(key)]
                                              for v in expected.values())  # fmt: skip
        assert body["totals"]["district"] == "Усього"
    en = get(client, "districts", {**admin, "Accept-Language": "en"})
    names_en = dict(sql(demo_url, "SELECT code, coalesce(name_en, name) FROM districts"
                                  " WHERE valid_to IS NULL"))  # fmt: skip
    assert {r["district_code"]: r["district"] for r in en["rows"] if r["district_code"]} == names_en
    assert (
        en["rows"][-1]["district"] == "Outside the districts"
        and en["totals"]["district"] == "Total"
    )


def _commonest_kind(demo_url) -> int:
    return sql(demo_url, "SELECT coalesce(c.parent_id, c.id) FROM appeals a JOIN categories c"
                         " ON c.id = a.category_id GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")[0][0]  # fmt: skip


def test_daily_summary_equals_sql(client, demo_url, admin, setup):
    day = sql(demo_url, "SELECT (created_at AT TIME ZONE 'Europe/Kyiv')::date FROM appeals"
                        " GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")[0][0]  # fmt: skip
    body = get(client, "daily", admin, date=day.isoformat())
    assert body["date"] == day.isoformat()
    got = {r["indicator_code"]: r["value"] for r in body["rows"]}
    local = "AT TIME ZONE 'Europe/Kyiv'"
    by_channel = dict(sql(demo_url, f"SELECT channel, count(*) FROM appeals"
                                    f" WHERE (created_at {local})::date = %s GROUP BY 1", (day,)))  # fmt: skip
    assert got["received"] == sum(by_channel.values()) > 0
    assert {k[9:]: v for k, v in got.items() if k.startswith("received_") and v} == by_channel
    closed = sql(demo_url, f"SELECT count(*) FROM appeals WHERE (closed_at {local})::date = %s",
                 (day,))[0][0]  # fmt: skip
    end = f"(%s::date + 1)::timestamp {local}"
    overdue = sql(demo_url, f"SELECT count(*) FROM appeals a WHERE a.created_at < {end}"
                            f" AND {DUE} < {end} AND (a.closed_at IS NULL OR a.closed_at >= {end})",
                  (day, day, day))[0][0]  # fmt: skip
    assert (got["closed"], got["overdue"]) == (closed, overdue)

    # By default: yesterday in Kyiv.
    def yesterday() -> str:
        return (dt.datetime.now(KYIV).date() - dt.timedelta(days=1)).isoformat()

    before = yesterday()
    answered = get(client, "daily", admin)["date"]
    assert answered in {before, yesterday()}  # two only if Kyiv's midnight fell in between


# --- scope -------------------------------------------------------------------------------------


def test_an_executor_sees_only_its_organisations(client, demo_url, setup):
    executor_id, code = sql(demo_url,
        "SELECT e.id, e.code FROM executors e JOIN appeals a ON a.executor_id = e.id"
        " WHERE EXISTS (SELECT 1 FROM executors s WHERE s.parent_id = e.id)"
        " GROUP BY 1, 2 ORDER BY count(*) DESC LIMIT 1")[0]  # fmt: skip
    tree = [r[0] for r in sql(demo_url, "WITH RECURSIVE t(id) AS (SELECT %s::int UNION"
                                        " SELECT e.id FROM executors e JOIN t ON e.parent_id = t.id)"
                                        " SELECT e.code FROM t JOIN executors e USING (id)",
                                 (executor_id,))]  # fmt: skip
    for role in ("executor", "manager"):
        headers = token(demo_url, role, executor_id=executor_id)
        body = get(client, "executors", headers)
        assert body["rows"] and {r["executor_code"] for r in body["rows"]} <= set(tree)
        total = sql(demo_url, "SELECT count(*) FROM appeals a JOIN executors e"
                              " ON e.id = a.executor_id WHERE e.code = ANY(%s)", (tree,))[0][0]  # fmt: skip
        assert body["totals"]["received"] == total
        overdue = get(client, "overdue", headers)["rows"]
        assert {r["executor_code"] for r in overdue} <= set(tree)
        # Asking for another organisation gives nothing of it.
        other = sql(demo_url, "SELECT code FROM executors WHERE code <> ALL(%s)"
                              " AND id IN (SELECT executor_id FROM appeals) LIMIT 1", (tree,))[0][0]  # fmt: skip
        assert get(client, "executors", headers, executor=other)["rows"] == []
    assert code in tree


def test_a_deputy_sees_only_their_ward(client, demo_url, admin, setup):
    ward = sql(demo_url, "SELECT w.number FROM appeals a JOIN wards w ON w.id = a.ward_id"
                         " GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")[0][0]  # fmt: skip
    headers = token(demo_url, "deputy", ward_number=ward)
    rows = [r for r in get(client, "wards", headers)["rows"] if r["received"]]
    count = sql(demo_url, "SELECT count(*) FROM appeals a JOIN wards w ON w.id = a.ward_id"
                          " WHERE w.number = %s", (ward,))[0][0]  # fmt: skip
    assert [(r["ward"], r["received"]) for r in rows] == [(ward, count)]
    assert get(client, "districts-by-category", headers)["totals"]["total"] == count
    assert get(client, "channels", headers)["totals"]["received"] == count
    city = get(client, "channels", admin)["totals"]["received"]
    assert city == sql(demo_url, "SELECT count(*) FROM appeals")[0][0] > count
    by_ward = {r["ward"]: r["received"] for r in get(client, "wards", admin, ward=ward)["rows"]}
    assert by_ward[ward] == count and sum(by_ward.values()) == count


def test_who_may_read_reports(client, demo_url):
    """The aggregates are public, city-wide for whoever is not a reader; the list of overdue
    appeals and the day's summary are the readers' alone."""
    for name in ("overdue", "daily"):
        r = client.get(URL + name)
        assert r.status_code == 401 and r.json()["code"] == "not_authenticated", name
        for role in ("citizen", "planner"):
            r = client.get(URL + name, headers=token(demo_url, role))
            assert r.status_code == 403 and r.json()["code"] == "forbidden", (name, role)
    for role in ("operator", "curator"):
        body = get(client, "wards", token(demo_url, role))
        assert body["scope"] == "city"
    # An unknown report is still refused to a non-reader (it is no public report).
    assert client.get(URL + "nonsense").status_code == 401


def test_public_reports_are_city_wide_for_anyone(client, demo_url, admin, setup):
    from gis.reports import PUBLIC_REPORTS

    assert PUBLIC_REPORTS == {"districts-by-category", "districts", "wards", "weekly", "channels",
                              "results", "executors", "hexagons", "councils"}  # fmt: skip
    citizen, planner = token(demo_url, "citizen"), token(demo_url, "planner")
    total = sql(demo_url, "SELECT count(*) FROM appeals")[0][0]
    key = {"districts-by-category": "total", "districts": "received", "wards": "received",
           "weekly": "received", "channels": "received", "results": "count",
           "executors": "received", "councils": "received"}  # fmt: skip
    for name, column in key.items():
        city = get(client, name, admin)
        assert city["scope"] == "city" and city["totals"][column] == total, name
        for headers in ({}, citizen, planner):
            body = get(client, name, headers)
            assert body["scope"] == "public", name
            assert body["rows"] == city["rows"] and body["totals"] == city["totals"], name
    # A reader keeps their own scope on a public report: a deputy their ward.
    ward = sql(demo_url, "SELECT w.number FROM appeals a JOIN wards w ON w.id = a.ward_id"
                         " GROUP BY 1 ORDER BY count(*) LIMIT 1")[0][0]  # fmt: skip
    body = get(client, "districts", token(demo_url, "deputy", ward_number=ward))
    assert body["scope"] == "ward" and 0 < body["totals"]["received"] < total
    executor_id = sql(demo_url, "SELECT executor_id FROM appeals WHERE executor_id IS NOT NULL"
                                " GROUP BY 1 ORDER BY count(*) LIMIT 1")[0][0]  # fmt: skip
    body = get(client, "channels", token(demo_url, "executor", executor_id=executor_id))
    assert body["scope"] == "organisations" and 0 < body["totals"]["received"] < total


def test_public_answers_are_cached_scoped_ones_not(client, demo_url, admin, setup):
    for params in ({}, {"format": "csv"}, {"format": "xlsx"}):
        r = client.get(URL + "districts", params=params)
        assert r.status_code == 200 and r.headers["cache-control"] == "public, max-age=300"
        assert "Authorization" in r.headers["vary"] and "Accept-Language" in r.headers["vary"]
        r = client.get(URL + "districts", params=params, headers=admin)
        assert r.status_code == 200 and r.headers["cache-control"] == "private, no-store"
    citizen = token(demo_url, "citizen")
    r = client.get(URL + "weekly", headers=citizen)
    assert r.headers["cache-control"] == "public, max-age=300"
    r = client.get(URL + "daily", headers=admin)
    assert r.headers["cache-control"] == "private, no-store"


def test_the_server_keeps_a_public_report_until_the_appeals_change(client, demo_url, setup):
    """Many visitors of the public dashboard cost one computation: the public table is kept
    (keyed by the filters and the data's generation), a reader's never; a write to the appeals,
    by whoever, is seen at once."""
    first = get(client, "districts", {})
    cache = client.app.state.public_reports_cache
    kept = len(cache._items)
    assert get(client, "districts", {}) == first and len(cache._items) == kept
    get(client, "districts", {"Accept-Language": "en"})
    assert len(cache._items) == kept + 1  # one per language
    moved = sql(demo_url, "SELECT a.id, d.code FROM appeals a JOIN districts d ON d.id = a.district_id"
                          " WHERE a.status <> 'closed' LIMIT 1")[0]  # fmt: skip
    open_before = {r["district_code"]: r["open"] for r in first["rows"]}
    sql(
        demo_url,
        "UPDATE appeals SET status = 'closed', closed_at = now() WHERE id = %s",
        (moved[0],),
    )
    deadline = time.monotonic() + 5
    while True:
        now_open = {r["district_code"]: r["open"] for r in get(client, "districts", {})["rows"]}
        if now_open[moved[1]] == open_before[moved[1]] - 1:
            break
        assert time.monotonic() < deadline, "the public report did not see the closed appeal"
        time.sleep(0.1)


def test_public_reports_carry_no_personal_data(client, demo_url, setup):
    """No author's name, e-mail, phone or address, no appeal's text or address, no appeal's
    number in any public report, in any format."""
    secrets = set()
    for row in sql(demo_url, "SELECT au.full_name, au.email, au.phone, au.postal_address,"
                             " a.text, a.address, a.number FROM appeals a"
                             " LEFT JOIN appeal_authors au ON au.appeal_id = a.id"):  # fmt: skip
        secrets |= {v for v in row if v and len(v) >= 8}
    assert len(secrets) > 500
    from gis.reports import PUBLIC_REPORTS

    for name in sorted(PUBLIC_REPORTS):
        for fmt in ("json", "csv"):
            r = client.get(URL + name, params={"format": fmt})
            assert r.status_code == 200, (name, r.text)
            text = r.content.decode("utf-8-sig")
            leaked = [s for s in secrets if s in text]
            assert not leaked, (name, fmt, leaked[:3])


# --- formats -----------------------------------------------------------------------------------


def test_csv_has_a_bom_and_reads_back_with_cyrillic(client, demo_url, admin, setup):
    date_from, date_to = window(demo_url)
    r = client.get(URL + "executors", headers=admin,
                   params={"format": "csv", "date_from": date_from, "date_to": date_to})  # fmt: skip
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith(b"\xef\xbb\xbf")
    assert (r.headers["content-disposition"]
            == f'attachment; filename="executors_{date_from}_{date_to}.csv"')  # fmt: skip
    table = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert table[0][:3] == ["Код виконавця", "Виконавець", "Надійшло"]
    body = get(client, "executors", admin, date_from=date_from, date_to=date_to)
    assert len(table) == len(body["rows"]) + 2  # header, rows, totals
    assert table[-1][1] == "Усього" and int(table[-1][2]) == body["totals"]["received"]
    assert any(any("\u0400" <= ch <= "\u04ff" for ch in row[1]) for row in table[1:-1])

    en = client.get(URL + "channels", headers={**admin, "Accept-Language": "en"},
                    params={"format": "csv"})  # fmt: skip
    head = next(csv.reader(io.StringIO(en.content.decode("utf-8-sig"))))
    assert head == ["Channel code", "Channel", "Received", "Open", "Closed", "Overdue now"]
    assert en.headers["content-language"] == "en"


def test_xlsx_has_a_frozen_header_numbers_and_dates(client, demo_url, admin, setup):
    r = client.get(URL + "overdue", headers=admin, params={"format": "xlsx"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(io.BytesIO(r.content)).active
    assert ws.freeze_panes == "A2"
    head = [c.value for c in ws[1]]
    assert head[0] == "Номер" and head[-1] == "Прострочено, днів"
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(get(client, "overdue", admin)["rows"]) > 0
    for row in rows:
        assert isinstance(row[-1], int) and row[-1] >= 0
        assert isinstance(row[head.index("Зареєстровано")], dt.datetime)  # a date cell
        assert isinstance(row[head.index("Строк")], dt.datetime)
    assert ws.column_dimensions["B"].width > 8

    r = client.get(URL + "executors", headers={**admin, "Accept-Language": "en"},
                   params={"format": "xlsx"})  # fmt: skip
    ws = load_workbook(io.BytesIO(r.content)).active
    head = [c.value for c in ws[1]]
    assert head[:3] == ["Executor code", "Executor", "Received"]
    assert ws.freeze_panes == "A2"
    last = [c.value for c in ws[ws.max_row]]
    assert last[1] == "Total" and isinstance(last[2], int)
    # A number cell (a whole mean such as 8.0 reads back as the int 8), equal to the JSON's.
    mean = last[head.index("Mean days to answer")]
    assert isinstance(mean, int | float) and not isinstance(mean, bool)
    assert mean == get(client, "executors", admin)["totals"]["mean_days"]


def test_english_titles_in_json(client, admin, setup):
    body = get(client, "daily", {**admin, "Accept-Language": "en"}, date="2026-01-15")
    assert body["language"] == "en"
    assert body["rows"][0]["indicator"] == "Received in the day"
    assert {c["key"]: c["title_en"] for c in body["columns"]}["value"] == "Value"
    assert body["rows"][1]["indicator"] == "Received: Website"


# --- bad values --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "code", "uk", "en"),
    [
        ({"date_from": "2026-13-01"}, "invalid_date", "РРРР-ММ-ДД", "YYYY-MM-DD"),
        ({"date_from": "2026-05-02", "date_to": "2026-05-01"}, "invalid_date_range",
         "пізніша", "later"),
        ({"district": "UA00000"}, "unknown_district", "UA00000", "UA00000"),
        ({"ward": "9999"}, "unknown_ward", "9999", "9999"),
        ({"ward": "x"}, "invalid_integer", "ward", "ward"),
        ({"category": "999999"}, "unknown_category", "999999", "999999"),
        ({"executor": "nobody"}, "unknown_executor", "nobody", "nobody"),
        ({"channel": "pigeon"}, "unknown_channel", "pigeon", "pigeon"),
        ({"format": "pdf"}, "invalid_report_format", "формат", "format"),
        ({"by": "colour"}, "invalid_value", "by", "by"),
    ],
)  # fmt: skip
def test_bad_filters_are_400_with_a_message(client, admin, params, code, uk, en):
    name = "districts-by-category"
    r = client.get(URL + name, headers=admin, params=params)
    assert r.status_code == 400, r.text
    assert r.json()["code"] == code and uk in r.json()["detail"]
    r = client.get(URL + name, headers={**admin, "Accept-Language": "en"}, params=params)
    assert r.status_code == 400 and en in r.json()["detail"]


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("daily", {"date_from": "2026-05-01"}),
        ("executors", {"date": "2026-05-01"}),
        ("wards", {"by": "category"}),
    ],
)
def test_a_filter_a_report_cannot_honour_is_400(client, admin, name, params):
    r = client.get(URL + name, headers=admin, params=params)
    assert r.status_code == 400
    assert r.json()["code"] == "report_parameter_not_applicable"
    assert r.json()["detail"] == f"Параметр {next(iter(params))} не застосовний до звіту «{name}»."
    r = client.get(URL + name, headers={**admin, "Accept-Language": "en"}, params=params)
    assert "does not apply to the report" in r.json()["detail"]


def test_an_unknown_report_is_404_naming_the_reports(client, admin):
    r = client.get(URL + "nonsense", headers=admin)
    assert r.status_code == 404
    assert r.json()["code"] == "unknown_report" and "executors" in r.json()["detail"]
    r = client.get(URL + "nonsense", headers={**admin, "Accept-Language": "en"})
    assert r.json()["detail"].startswith("There is no report 'nonsense'")


def test_weekly_series_equals_sql(client, demo_url, admin, setup):
    """Received by the Kyiv week of registration, closed by the week of closing, of the appeals
    under the filters; the sums are the filters' counts."""
    local = "AT TIME ZONE 'Europe/Kyiv'"
    for params in combos(demo_url):
        body = get(client, "weekly", admin, **params)
        cond, args = where(demo_url, **params)
        received = dict(sql(demo_url, f"SELECT date_trunc('week', a.created_at {local})::date,"
                                      f" count(*) FROM appeals a WHERE {cond} GROUP BY 1", args))  # fmt: skip
        closed = dict(sql(demo_url, f"SELECT date_trunc('week', a.closed_at {local})::date,"
                                    f" count(*) FROM appeals a WHERE a.closed_at IS NOT NULL"
                                    f" AND {cond} GROUP BY 1", args))  # fmt: skip
        got = {dt.date.fromisoformat(r["week"]): (r["received"], r["closed"]) for r in body["rows"]}
        weeks = set(received) | set(closed)
        assert got == {w: (received.get(w, 0), closed.get(w, 0)) for w in weeks}
        assert all(w.weekday() == 0 for w in got)
        assert body["totals"]["received"] == sum(received.values()) > 0
        assert body["totals"]["closed"] == sum(closed.values())


# --- hexagons ----------------------------------------------------------------------------------


def edge(demo_url, size: int) -> float:
    """The hexagon's edge in EPSG:3857 for `size` ground metres at the city's centre."""
    lat = sql(demo_url, "SELECT (ST_YMin(e) + ST_YMax(e)) / 2 FROM (SELECT ST_Extent(geom) AS e"
                        " FROM hromadas WHERE valid_to IS NULL) h")[0][0]  # fmt: skip
    assert 44 < lat < 53  # the demo city is Kyiv
    return size / math.cos(math.radians(lat))


def grid_counts(demo_url, size: int, w: str, p: list) -> dict[str, tuple[int, int, int]]:
    """Per hexagon "i:j" of PostGIS's ST_HexagonGrid over the located appeals: received, open,
    overdue now — the grid generated and joined, the way the report avoids."""
    e = edge(demo_url, size)
    return {f"{i}:{j}": (n, o, d) for i, j, n, o, d in sql(demo_url,
        f"SELECT h.i, h.j, count(*), count(*) FILTER (WHERE a.status <> 'closed'),"
        f" count(*) FILTER (WHERE a.status <> 'closed' AND {DUE} < now())"
        f" FROM appeals a JOIN ST_HexagonGrid(%s, ST_SetSRID((SELECT ST_Extent(geom_3857)"
        f"  FROM appeals)::geometry, 3857)) h ON ST_Intersects(h.geom, a.geom_3857)"
        f" WHERE {w} GROUP BY 1, 2", [e, *p])}  # fmt: skip


def test_the_hexagon_index_arithmetic_is_postgis_lattice(demo_url, setup):
    """The (i, j) computed from a point's coordinates is the ST_Hexagon holding it: for every
    appeal of the demo city and a dense lattice of points around it (vertices and edges of the
    hexagons included), at several sizes, and the per-hexagon counts equal those of a direct
    ST_HexagonGrid join."""
    from gis.reports import hex_cell_sql

    appeals = "SELECT ST_X(geom_3857) AS x, ST_Y(geom_3857) AS y FROM appeals"
    for size in (200, 733, 1000, 5000):
        e = edge(demo_url, size)
        box = sql(demo_url, "SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM"
                            " (SELECT ST_Extent(geom_3857) AS b FROM appeals) s")[0]  # fmt: skip
        step = e / 7.3  # not a divisor of the lattice: points fall everywhere in the hexagons
        lattice = (f"SELECT {box[0]} + gx * {step} AS x, {box[1]} + gy * {step} AS y"
                   f" FROM generate_series(0, 120) gx, generate_series(0, 120) gy")  # fmt: skip
        # Points exactly on the vertices and on the middle of the edges of some hexagons.
        corners = (f"SELECT ST_X(v.geom) AS x, ST_Y(v.geom) AS y FROM"
                   f" generate_series(-3, 3) ci, generate_series(-3, 3) cj,"
                   f" ST_DumpPoints(ST_Hexagon({e}, 1900 + ci, 5600 + cj)) v")  # fmt: skip
        for source, least in ((appeals, 700), (lattice, 14000), (corners, 300)):
            n, bad = sql(demo_url,
                f"SELECT count(*), count(*) FILTER (WHERE NOT ST_Intersects("
                f" ST_Hexagon({e}, i::int, j::int), ST_MakePoint(x, y)))"
                f" FROM ({hex_cell_sql(e, source, 'x, y')}) t", None)[0]  # fmt: skip
            assert n >= least and bad == 0, (size, source[:40], bad)
        mine = {f"{i}:{j}": n for i, j, n in sql(demo_url,
            f"SELECT i, j, count(*) FROM ({hex_cell_sql(e, appeals + ' WHERE geom_3857 IS NOT NULL')})"
            f" t GROUP BY 1, 2")}  # fmt: skip
        assert mine == {k: v[0] for k, v in grid_counts(demo_url, size, "true", []).items()}


def test_hexagons_equal_sql(client, demo_url, admin, setup):
    for size, f in ((None, {}), (200, combos(demo_url)[1]), (2500, combos(demo_url)[2]),
                    (1000, {"category": _commonest_kind(demo_url)})):  # fmt: skip
        w, p = where(demo_url, **f)
        params = {**f, **({"size": size} if size else {})}
        body = get(client, "hexagons", admin, **params)
        assert body["size"] == (size or 1000) and body["scope"] == "city"
        got = {r["hex"]: (r["received"], r["open"], r["overdue"]) for r in body["rows"]}
        assert got == grid_counts(demo_url, size or 1000, w, p) and got
        assert all(r["received"] > 0 for r in body["rows"])
        located = sql(demo_url, f"SELECT count(*) FROM appeals a WHERE a.geom_3857 IS NOT NULL"
                                f" AND {w}", p)[0][0]  # fmt: skip
        assert body["totals"]["received"] == located == sum(v[0] for v in got.values())
        # The centres: the hexagons' own, in WGS 84.
        e = edge(demo_url, size or 1000)
        for r in body["rows"][:20]:
            i, j = map(int, r["hex"].split(":"))
            lon, lat = sql(demo_url, "SELECT ST_X(c), ST_Y(c) FROM ST_Transform(ST_SetSRID("
                                     "ST_Centroid(ST_Hexagon(%s, %s, %s)), 3857), 4326) c",
                           (e, i, j))[0]  # fmt: skip
            assert (r["lon"], r["lat"]) == (round(lon, 6), round(lat, 6))
    types = {c["key"]: c["type"] for c in body["columns"]}
    assert types == {"hex": "string", "lon": "number", "lat": "number", "received": "integer",
                     "open": "integer", "overdue": "integer"}  # fmt: skip
    # A scope: an executor's hexagons count its organisations' appeals only.
    executor_id = sql(demo_url, "SELECT executor_id FROM appeals WHERE executor_id IS NOT NULL"
                                " AND geom_3857 IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC"
                                " LIMIT 1")[0][0]  # fmt: skip
    body = get(client, "hexagons", token(demo_url, "executor", executor_id=executor_id))
    tree = [r[0] for r in sql(demo_url, "WITH RECURSIVE t(id) AS (SELECT %s::int UNION SELECT"
                                        " e.id FROM executors e JOIN t ON e.parent_id = t.id)"
                                        " SELECT id FROM t", (executor_id,))]  # fmt: skip
    w = "a.executor_id = ANY(%s)"
    assert body["scope"] == "organisations"
    assert {r["hex"]: (r["received"], r["open"], r["overdue"]) for r in body["rows"]} == (
        grid_counts(demo_url, 1000, w, [tree])
    )


def test_hexagons_as_geojson_csv_and_xlsx(client, demo_url, admin, setup):
    date_from, date_to = window(demo_url)
    params = {"size": "750", "date_from": date_from, "date_to": date_to}
    r = client.get(URL + "hexagons", params={**params, "format": "geojson"})  # anonymous
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
    assert r.headers["cache-control"] == "public, max-age=300"
    fc = json.loads(r.content)
    assert fc["type"] == "FeatureCollection" and fc["size"] == 750 and fc["features"]
    w, p = where(demo_url, date_from=date_from, date_to=date_to)
    located = sql(demo_url, f"SELECT count(*) FROM appeals a WHERE a.geom_3857 IS NOT NULL"
                            f" AND {w}", p)[0][0]  # fmt: skip
    assert sum(f["properties"]["received"] for f in fc["features"]) == located > 0
    body = get(client, "hexagons", {}, **params)
    assert [f["properties"] for f in fc["features"]] == body["rows"]
    for feature in fc["features"]:
        ring = feature["geometry"]["coordinates"][0]
        assert feature["geometry"]["type"] == "Polygon" and len(ring) == 7 and ring[0] == ring[-1]
        props = feature["properties"]
        assert feature["id"] == props["hex"]
        lons, lats = [x for x, _ in ring], [y for _, y in ring]
        assert min(lons) < props["lon"] < max(lons) and min(lats) < props["lat"] < max(lats)
        assert 30 < props["lon"] < 31 and 50 < props["lat"] < 51  # Kyiv, WGS 84
        assert set(props) == {"hex", "lon", "lat", "received", "open", "overdue"}
    # About 750 m of edge on the ground: the hexagon's width (two edges) in metres, measured on
    # the spheroid.
    ring = fc["features"][0]["geometry"]["coordinates"][0]
    west, east = min(ring), max(ring)
    width = sql(demo_url, "SELECT ST_Distance(ST_MakePoint(%s, %s)::geography,"
                          " ST_MakePoint(%s, %s)::geography)", (*west, *east))[0][0]  # fmt: skip
    assert 1400 < width < 1600, width

    r = client.get(URL + "hexagons", params={**params, "format": "csv"}, headers=admin)
    table = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert table[0] == ["Шестикутник (i:j)", "Довгота центру", "Широта центру", "Надійшло",
                        "Незакриті", "Прострочено зараз"]  # fmt: skip
    assert len(table) == len(body["rows"]) + 2 and int(table[-1][3]) == located
    r = client.get(URL + "hexagons", params={**params, "format": "xlsx"},
                   headers={**admin, "Accept-Language": "en"})  # fmt: skip
    ws = load_workbook(io.BytesIO(r.content)).active
    assert [c.value for c in ws[1]][:3] == ["Hexagon (i:j)", "Centre longitude", "Centre latitude"]
    row = [c.value for c in ws[2]]
    assert isinstance(row[1], float) and isinstance(row[2], float) and isinstance(row[3], int)


@pytest.mark.parametrize("size", ["199", "5001", "0", "-1000", "1e3", "1000.5", "abc"])
def test_a_hexagon_size_out_of_range_is_400(client, size):
    r = client.get(URL + "hexagons", params={"size": size})
    assert r.status_code == 400 and r.json()["code"] == "invalid_hexagon_size", r.text
    assert r.json()["parameter"] == "size"
    assert "ребро шестикутника" in r.json()["detail"] and "від 200 до 5000" in r.json()["detail"]
    r = client.get(URL + "hexagons", params={"size": size}, headers={"Accept-Language": "en"})
    assert "hexagon's edge" in r.json()["detail"] and "from 200 to 5000" in r.json()["detail"]


def test_size_and_geojson_belong_to_hexagons_alone(client, admin):
    r = client.get(URL + "districts", params={"size": "1000"})
    assert r.status_code == 400 and r.json()["code"] == "report_parameter_not_applicable"
    for name in ("districts", "wards", "overdue"):
        r = client.get(URL + name, params={"format": "geojson"}, headers=admin)
        assert r.status_code == 400 and r.json()["code"] == "report_format_not_applicable"
        assert r.json()["detail"] == (f"Формат geojson є лише у звіту hexagons; звіт «{name}»"
                                      f" можна отримати як json, csv, xlsx.")  # fmt: skip
        r = client.get(URL + name, params={"format": "geojson"},
                       headers={**admin, "Accept-Language": "en"})  # fmt: skip
        assert "offered by the report hexagons only" in r.json()["detail"]
    # The unknown report stays 404, whatever the format.
    r = client.get(URL + "nonsense", params={"format": "geojson"}, headers=admin)
    assert r.status_code == 404
