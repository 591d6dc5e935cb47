"""The map.1551-style public feed and its statistics (issue 5, item 4): every filter against
SQL counts, keyset paging without repeats, statistics that agree with the feed, 400s in
Ukrainian and English, and no personal data anywhere.

Runs on a small demo city (seed 7, 2,000 appeals ending today) shared by the module.
"""

from __future__ import annotations

import datetime as dt
import json
import time

import psycopg
import pytest

from gis import public_feed
from layers.errors import InvalidParameter

FEED = "/api/v1/appeals/public"
STATS = "/api/v1/appeals/public/statistics"
POINT = {"lon": 30.5234, "lat": 50.4501}  # Майдан Незалежності
SECRET_AUTHOR = {
    "full_name": "Загорулько-Витвицька Ярослава Пантелеймонівна",
    "email": "yaroslava.zahorulko.secret@example.org",
    "phone": "+380 93 765 43 21",
    "postal_address": "м. Київ, провулок Таємний, 313, кв. 131",
}
SECRET_TEXT = "Конфіденційний опис: у підвалі будинку номер сорок два стоїть вода Ґжзцфґ."
PUBLIC_TEXT = "Публічний опис: на дитячому майданчику зламано гойдалку, прошу полагодити Щхїй."


# The module's demo city (conftest's demo_url) and the app on it (conftest's client).
DEMO = {"prefix": "feed", "seed": 7, "appeals": 2000}


def sql(url: str, query: str, params=None) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchall()


def count(url: str, where: str = "true", params=()) -> int:
    return sql(url, f"SELECT count(*) FROM appeals WHERE {where}", params)[0][0]


def get(client, path: str, params: dict | None = None, **kw) -> dict:
    r = client.get(path, params=params, **kw)
    assert r.status_code == 200, r.text
    return r.json()


def walk(client, params: dict) -> list[dict]:
    """Every item of the feed for these filters, page by page."""
    out: list[dict] = []
    page = get(client, FEED, {**params, "limit": 500})
    while True:
        out += page["items"]
        if not page["next"]:
            return out
        page = get(client, FEED, {**params, "limit": 500, "after": page["next"]})


def kyiv(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), public_feed.KYIV)


# --- the parser on its own -------------------------------------------------------------------


def test_defaults_and_canonical_filters():
    now = dt.datetime(2026, 5, 10, 12, tzinfo=dt.UTC)
    q = public_feed.parse_query([], now=now)
    assert q.period == "month" and q.since == now - dt.timedelta(days=30) and q.until is None
    assert q.limit == 50 and q.kinds == () and q.statuses == ()
    q = public_feed.parse_query([("type", "complaints"), ("status", "closed,in_work")], now=now)
    assert q.kinds == ("complaint",) and q.statuses == ("closed", "in_work")
    q = public_feed.parse_query([("type", "complaints,thanks")], now=now)
    assert q.kinds == ()  # both is no filter
    q = public_feed.parse_query([("date_from", "2026-03-01"), ("date_to", "2026-03-31")], now=now)
    assert q.period == "custom"
    # Kyiv days: 1 March 00:00 Kyiv is 28 February 22:00 UTC (winter time, UTC+2).
    assert q.since == dt.datetime(2026, 2, 28, 22, tzinfo=dt.UTC)
    assert q.until == dt.datetime(2026, 3, 31, 21, tzinfo=dt.UTC)  # 1 April, summer time
    q = public_feed.parse_query([("period", "all")], now=now)
    assert q.since is None and q.until is None


def test_cursor_round_trip_and_garbage():
    c = public_feed.Cursor(dt.datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=dt.UTC), 42)
    assert public_feed.Cursor.decode(c.encode()) == c
    for bad in ("zzz", "", "MTIz", "bm90fGFu"):
        with pytest.raises(InvalidParameter) as e:
            public_feed.Cursor.decode(bad)
        assert e.value.code == "invalid_cursor"


# --- filters against SQL ---------------------------------------------------------------------


def test_the_default_is_the_last_30_days(client, demo_url):
    page = get(client, FEED)
    assert page["filters"]["period"] == "month" and page["limit"] == 50
    expected = count(demo_url, "created_at >= now() - interval '30 days'")
    assert page["total"] == expected > 0
    assert len(page["items"]) == min(50, expected)


@pytest.mark.parametrize(
    ("params", "where"),
    [
        ({"period": "all"}, "true"),
        ({"period": "day"}, "created_at >= now() - interval '1 day'"),
        ({"period": "week"}, "created_at >= now() - interval '7 days'"),
        ({"period": "month", "type": "thanks"},
         "created_at >= now() - interval '30 days' AND kind = 'thanks'"),
        ({"period": "all", "type": "complaints"}, "kind = 'complaint'"),
        ({"period": "all", "type": "complaint,thanks"}, "true"),
        ({"period": "all", "status": "in_work,rework"}, "status IN ('in_work', 'rework')"),
        ({"period": "all", "status": ["closed", "registered"]},
         "status IN ('closed', 'registered')"),
        ({"period": "all", "bbox": "30.50,50.43,30.56,50.47"},
         "geom && ST_MakeEnvelope(30.50, 50.43, 30.56, 50.47, 4326)"),
    ],
)  # fmt: skip
def test_each_filter_matches_sql(client, demo_url, params, where):
    expected = count(demo_url, where)
    page = get(client, FEED, params)
    assert page["total"] == expected
    assert get(client, STATS, params)["total"] == expected
    items = walk(client, params)
    assert len(items) == expected
    if "status" in params:
        wanted = set(",".join(params["status"]).split(",") if isinstance(params["status"], list)
                     else params["status"].split(","))  # fmt: skip
        assert {i["status"] for i in items} <= wanted
    if params.get("type") in ("thanks", "complaints"):
        kind = {"thanks": "thanks", "complaints": "complaint"}[params["type"]]
        assert {i["kind"] for i in items} <= {kind}
    if "bbox" in params:
        assert all(30.50 <= i["lon"] <= 30.56 and 50.43 <= i["lat"] <= 50.47 for i in items)


def test_custom_dates_are_inclusive_kyiv_days(client, demo_url):
    day_from, day_to = dt.date.today() - dt.timedelta(days=60), dt.date.today() - dt.timedelta(40)
    expected = count(
        demo_url, "created_at >= %s AND created_at < %s",
        (kyiv(day_from), kyiv(day_to + dt.timedelta(days=1))),
    )  # fmt: skip
    params = {"date_from": day_from.isoformat(), "date_to": day_to.isoformat()}
    page = get(client, FEED, params)
    assert page["filters"]["period"] == "custom" and page["total"] == expected > 0
    assert get(client, FEED, {**params, "period": "custom"})["total"] == expected
    only_from = get(client, FEED, {"date_from": day_from.isoformat()})["total"]
    assert only_from == count(demo_url, "created_at >= %s", (kyiv(day_from),))
    only_to = get(client, FEED, {"date_to": day_to.isoformat()})["total"]
    assert only_to == count(demo_url, "created_at < %s", (kyiv(day_to + dt.timedelta(1)),))
    for item in walk(client, params):
        local = dt.datetime.fromisoformat(item["created_at"]).astimezone(public_feed.KYIV)
        assert day_from <= local.date() <= day_to


def test_category_by_id_code_and_kind(client, demo_url):
    cat_id, code, parent = sql(
        demo_url, "SELECT category_id, c.code, c.parent_id FROM appeals a JOIN categories c"
                  " ON c.id = a.category_id GROUP BY 1, 2, 3 ORDER BY count(*) DESC LIMIT 1",
    )[0]  # fmt: skip
    expected = count(demo_url, "category_id = %s", (cat_id,))
    assert get(client, FEED, {"period": "all", "category": cat_id})["total"] == expected
    assert get(client, FEED, {"period": "all", "category": code})["total"] == expected
    items = walk(client, {"period": "all", "category": str(cat_id)})
    assert {i["category"]["id"] for i in items} == {cat_id} and items[0]["category"]["name"]
    # A kind (вид) stands for all its sub-kinds.
    in_kind = count(demo_url, "category_id IN (SELECT id FROM categories WHERE parent_id = %s"
                              " OR id = %s)", (parent, parent))  # fmt: skip
    assert get(client, FEED, {"period": "all", "category": parent})["total"] == in_kind > expected
    other = sql(demo_url, "SELECT category_id FROM appeals WHERE category_id <> %s LIMIT 1",
                (cat_id,))[0][0]  # fmt: skip
    both = count(demo_url, "category_id IN (%s, %s)", (cat_id, other))
    assert get(client, FEED, {"period": "all", "category": f"{cat_id},{other}"})["total"] == both


def test_district_by_id_and_katotth_code(client, demo_url):
    d_id, code, name = sql(demo_url, "SELECT id, code, name FROM districts ORDER BY id LIMIT 1")[0]
    expected = count(demo_url, "district_id = %s", (d_id,))
    by_id = get(client, FEED, {"period": "all", "district": d_id})
    by_code = get(client, FEED, {"period": "all", "district": code})
    assert by_id["total"] == by_code["total"] == expected > 0
    assert {i["district"]["name"] for i in walk(client, {"period": "all", "district": code})} == {
        name
    }
    filtered = get(
        client, FEED, {"period": "week", "status": "closed", "district": d_id, "type": "complaint"}
    )
    assert filtered["total"] == count(
        demo_url, "created_at >= now() - interval '7 days' AND status = 'closed'"
                  " AND district_id = %s AND kind = 'complaint'", (d_id,),
    )  # fmt: skip


# --- paging ----------------------------------------------------------------------------------


def test_paging_walks_every_item_once_newest_first(client, demo_url):
    seen: list[dict] = []
    page = get(client, FEED, {"period": "all", "limit": 173})
    pages = 1
    while page["next"]:
        assert page["count"] == 173 == len(page["items"])
        seen += page["items"]
        assert page["links"]["next"].endswith(page["next"])
        page = get(client, FEED, {"period": "all", "limit": 173, "after": page["next"]})
        pages += 1
    seen += page["items"]
    assert page["links"]["next"] is None
    numbers = [i["number"] for i in seen]
    assert len(numbers) == len(set(numbers)) == count(demo_url) == page["total"]
    assert pages == -(-len(numbers) // 173)
    keys = [(i["created_at"], i["number"]) for i in seen]
    stamps = [dt.datetime.fromisoformat(k[0]) for k in keys]
    assert stamps == sorted(stamps, reverse=True)


def test_a_relative_period_keeps_its_window_across_pages(client):
    first = get(client, FEED, {"period": "week", "limit": 5})
    cursor = public_feed.Cursor.decode(first["next"])
    assert cursor.since is not None  # the window's start travels with the cursor
    now = dt.datetime.now(dt.UTC)
    assert abs((now - dt.timedelta(days=7) - cursor.since).total_seconds()) < 60


def test_a_forged_cursor_cannot_widen_the_period(client, demo_url):
    week = get(client, FEED, {"period": "week"})["total"]
    forged = public_feed.Cursor(
        dt.datetime(2100, 1, 1, tzinfo=dt.UTC), 1, dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    ).encode()
    page = get(client, FEED, {"period": "week", "limit": 500, "after": forged})
    oldest = min(dt.datetime.fromisoformat(i["created_at"]) for i in page["items"])
    assert oldest >= dt.datetime.now(dt.UTC) - dt.timedelta(days=7, minutes=1)
    assert page["total"] == week == get(client, STATS, {"period": "week"})["total"]


# --- statistics ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [{}, {"period": "all"}, {"period": "week", "type": "complaints"},
     {"period": "all", "status": "closed", "district": "1"},
     {"period": "all", "bbox": "30.3,50.3,30.7,50.6"}],
)  # fmt: skip
def test_statistics_agree_with_the_feed(client, demo_url, params):
    stats = get(client, STATS, params)
    assert stats["total"] == get(client, FEED, params)["total"]
    assert sum(s["count"] for s in stats["by_status"]) == stats["total"]
    assert [s["status"] for s in stats["by_status"]] == [
        "registered", "in_work", "on_check", "rework", "closed"
    ]  # fmt: skip
    assert all(s["name"] and s["name_en"] for s in stats["by_status"])
    assert sum(d["count"] for d in stats["by_district"]) == stats["total"]
    assert sum(t["count"] for t in stats["by_type"]) == stats["total"]
    assert len(stats["by_category"]) == min(20, stats["categories_count"])
    assert all(c["name"] for c in stats["by_category"])
    counts = [c["count"] for c in stats["by_category"]]
    assert counts == sorted(counts, reverse=True)


def test_statistics_by_status_and_category_match_sql(client, demo_url):
    stats = get(client, STATS, {"period": "all", "top": 5})
    assert stats["top"] == 5 and len(stats["by_category"]) == 5
    by_status = dict(sql(demo_url, "SELECT status, count(*) FROM appeals GROUP BY 1"))
    assert {s["status"]: s["count"] for s in stats["by_status"] if s["count"]} == by_status
    top = sql(demo_url, "SELECT category_id, count(*) FROM appeals GROUP BY 1"
                        " ORDER BY 2 DESC, 1 LIMIT 5")  # fmt: skip
    assert [(c["id"], c["count"]) for c in stats["by_category"]] == top
    distinct = sql(demo_url, "SELECT count(DISTINCT category_id) FROM appeals")[0][0]
    assert stats["categories_count"] == distinct
    by_district = dict(sql(demo_url, "SELECT district_id, count(*) FROM appeals GROUP BY 1"))
    assert {d["id"]: d["count"] for d in stats["by_district"]} == by_district
    overdue = sql(demo_url, "SELECT count(*) FROM appeal_features WHERE overdue")[0][0]
    assert stats["overdue"] == overdue


# --- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "params", "code", "parameter"),
    [
        (FEED, {"colour": "red"}, "unknown_parameter", "colour"),
        (STATS, {"limit": "5"}, "unknown_parameter", "limit"),
        (FEED, {"top": "5"}, "unknown_parameter", "top"),
        (FEED, {"type": "praise"}, "invalid_type", "type"),
        (FEED, {"period": "year"}, "invalid_period", "period"),
        (STATS, {"period": "custom"}, "custom_period_needs_dates", "period"),
        (FEED, {"period": "day", "date_from": "2026-01-01"}, "dates_need_custom_period", "period"),
        (FEED, {"date_from": "01.03.2026"}, "invalid_date", "date_from"),
        (STATS, {"date_to": "2026-02-30"}, "invalid_date", "date_to"),
        (FEED, {"date_to": "9999-12-31"}, "invalid_date", "date_to"),
        (FEED, {"date_from": "2026-03-02", "date_to": "2026-03-01"}, "invalid_date_range",
         "date_to"),
        (FEED, {"limit": "0"}, "invalid_limit", "limit"),
        (FEED, {"limit": "501"}, "invalid_limit", "limit"),
        (FEED, {"limit": "ten"}, "invalid_limit", "limit"),
        (STATS, {"top": "-1"}, "invalid_top", "top"),
        (FEED, {"status": "open"}, "invalid_status", "status"),
        (STATS, {"status": ""}, "empty_parameter", "status"),
        (FEED, {"category": "999999"}, "unknown_category", "category"),
        (STATS, {"category": "no-such-code"}, "unknown_category", "category"),
        (FEED, {"district": "UA00000000000000000"}, "unknown_district", "district"),
        (FEED, {"district": "999"}, "unknown_district", "district"),
        (FEED, {"category": "\x00"}, "invalid_characters", "category"),
        (STATS, {"district": "x" * 5000}, "unknown_district", "district"),
        (FEED, {"after": "not-a-cursor"}, "invalid_cursor", "after"),
        (FEED, {"bbox": "30,50,31"}, "invalid_bbox", "bbox"),
        (STATS, {"bbox": "31,50,30,51"}, "invalid_bbox", "bbox"),
    ],
)  # fmt: skip
def test_bad_parameters_are_400_in_ukrainian_and_english(client, path, params, code, parameter):
    uk = client.get(path, params=params)
    en = client.get(path, params=params, headers={"Accept-Language": "en-GB,en;q=0.9"})
    for r in (uk, en):
        assert r.status_code == 400, r.text
        assert r.json()["code"] == code and r.json()["parameter"] == parameter
        assert code not in r.json()["detail"]  # a message for people, not the code again
    assert uk.headers["content-language"] == "uk" and en.headers["content-language"] == "en"
    assert any("\u0400" <= ch <= "\u04ff" for ch in uk.json()["detail"])
    assert uk.json()["detail"] != en.json()["detail"]


def test_repeated_scalar_parameter_is_400(client):
    r = client.get(f"{FEED}?limit=5&limit=6")
    assert r.status_code == 400 and r.json()["code"] == "repeated_parameter"


# --- personal data ----------------------------------------------------------------------------


def _submit(client, demo_url, *, text: str, public: bool) -> dict:
    cat = sql(demo_url, "SELECT id FROM categories WHERE parent_id IS NOT NULL AND is_active"
                        " ORDER BY id LIMIT 1")[0][0]  # fmt: skip
    r = client.post("/api/v1/appeals", json={
        "category": cat, "text": text, "location": dict(POINT), "author": dict(SECRET_AUTHOR),
        "consent_to_publish": public,
    })  # fmt: skip
    assert r.status_code == 201, r.text
    return r.json()


def test_no_personal_data_in_the_feed_or_statistics(client, demo_url):
    before = get(client, STATS, {"period": "day"})["total"]
    private = _submit(client, demo_url, text=SECRET_TEXT, public=False)
    shown = _submit(client, demo_url, text=PUBLIC_TEXT, public=True)
    bodies = []
    for params in ({}, {"period": "day"}, {"period": "all", "limit": 500},
                   {"period": "day", "bbox": "30.52,50.44,30.53,50.46"},
                   {"period": "day", "status": "registered"}):  # fmt: skip
        r = client.get(FEED, params=params)
        assert r.status_code == 200
        bodies.append(r.text)
        s = client.get(STATS, params={k: v for k, v in params.items() if k != "limit"})
        assert s.status_code == 200
        bodies.append(s.text)
    items = {i["number"]: i for i in get(client, FEED, {"period": "day", "limit": 500})["items"]}
    assert private["number"] in items and shown["number"] in items
    assert items[private["number"]]["text"] is None
    assert items[shown["number"]]["text"] == PUBLIC_TEXT
    secrets = [*SECRET_AUTHOR.values(), SECRET_TEXT, "Загорулько", "zahorulko", "765 43 21",
               "Таємний", "380937654321"]  # fmt: skip
    for body in bodies:
        decoded = json.dumps(json.loads(body), ensure_ascii=False)
        for secret in secrets:
            assert secret not in decoded and secret not in body
        for item in json.loads(body).get("items", []):
            assert not {"author", "full_name", "email", "phone", "postal_address"} & set(item)
    # The new appeals count at once: a write to appeals bumps the cache's key.
    deadline = time.monotonic() + 5
    while get(client, STATS, {"period": "day"})["total"] != before + 2:
        assert time.monotonic() < deadline, "statistics did not see the new appeals"
        time.sleep(0.1)
