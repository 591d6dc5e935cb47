"""Open data (issue 14, item 3): the public appeals in the field names of Kyiv's published 1551
records, streamed as CSV and GeoJSON; an analysis written for Kyiv's data runs on ours.

Runs on a small demo city (seed 11, 1,500 appeals, a year ending today) shared by the module.
"""

from __future__ import annotations

import collections
import csv
import datetime as dt
import io
import json

import psycopg
import pytest

from gis import opendata

CSV_URL = "/api/v1/opendata/appeals.csv"
GEOJSON_URL = "/api/v1/opendata/appeals.geojson"


# The module's demo city (conftest's demo_url) and the app on it (conftest's client).
DEMO = {"prefix": "opendata", "seed": 11, "appeals": 1500}


def sql(url: str, query: str, params=None) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchall()


def analyse(records) -> tuple[collections.Counter, collections.Counter]:
    """An analysis script as one writes it for Kyiv's 1551 records: appeals by kind and by
    month of receivedDateTime ("2025-09-01T00:42Z")."""
    by_kind: collections.Counter = collections.Counter()
    by_month: collections.Counter = collections.Counter()
    for r in records:
        by_kind[r["kind"]] += 1
        received = dt.datetime.strptime(r["receivedDateTime"], "%Y-%m-%dT%H:%MZ")
        by_month[received.strftime("%Y-%m")] += 1
    return by_kind, by_month


def read_csv(client, params=None) -> tuple[bytes, list[dict]]:
    r = client.get(CSV_URL, params=params)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    body = r.content
    return body, list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


def test_csv_reads_as_kyivs_records(client, demo_url, shared_data):
    body, rows = read_csv(client)
    assert body.startswith(b"\xef\xbb\xbf")
    sample = json.loads((shared_data / "kyiv_1551_appeals_sample.json").read_text())["records"]
    kyiv_fields = [k for k in sample[0] if not k.startswith("_")]
    assert list(rows[0])[: len(kyiv_fields)] == kyiv_fields
    assert list(rows[0])[len(kyiv_fields) :] == ["lon", "lat", "text"]

    # The same script over Kyiv's sample and over our export.
    kyiv_kinds, kyiv_months = analyse(sample)
    assert sum(kyiv_kinds.values()) == len(sample) and kyiv_months
    kinds, months = analyse(rows)
    assert sum(months.values()) == len(rows) == sql(demo_url, "SELECT count(*) FROM appeals")[0][0]
    expected_kinds = dict(
        sql(
            demo_url,
            "SELECT coalesce(p.name, c.name), count(*) FROM appeals a"
            " JOIN categories c ON c.id = a.category_id"
            " LEFT JOIN categories p ON p.id = c.parent_id GROUP BY 1",
        )
    )
    assert dict(kinds) == expected_kinds
    expected_months = dict(
        sql(
            demo_url,
            "SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM'), count(*) FROM appeals"
            " GROUP BY 1",
        )
    )
    assert dict(months) == expected_months

    # Codes and formats as 1551's.
    row = rows[0]
    assert row["type"] == "Звернення"
    assert row["addressAdminUnitL1"] == "Україна"
    assert row["CATUTTC"].startswith("UA")
    statuses = {r["status"] for r in rows}
    assert statuses <= {"Зареєстровано", "В роботі", "На перевірці", "На доопрацюванні", "Закрито"}
    methods = {r["accrualMethod"] for r in rows}
    assert "Дзвінок в 1551" in methods and methods <= set(opendata.ACCRUAL_METHODS.values())
    for field in opendata.EMPTY_FIELDS:
        assert {r[field] for r in rows} == {""}
    by_id = {int(r["Id"]): r for r in rows}
    ((id_, number, lon, lat),) = sql(
        demo_url, "SELECT id, number, ST_X(geom), ST_Y(geom) FROM appeals ORDER BY id LIMIT 1"
    )
    assert by_id[id_]["uid"] == number
    assert float(by_id[id_]["lon"]) == pytest.approx(lon, abs=1e-6)
    assert float(by_id[id_]["lat"]) == pytest.approx(lat, abs=1e-6)


@pytest.mark.parametrize(
    "params, where, args",
    [
        ({"status": "closed"}, "status = 'closed'", ()),
        ({"type": "thanks"}, "kind = 'thanks'", ()),
        ({"bbox": "30.4,50.4,30.6,50.5"},
         "geom && ST_MakeEnvelope(30.4, 50.4, 30.6, 50.5, 4326)", ()),
        ({"period": "week"}, "created_at >= now() - interval '7 days'", ()),
    ],
)  # fmt: skip
def test_filters_count_as_sql(client, demo_url, params, where, args):
    _, rows = read_csv(client, params)
    assert len(rows) == sql(demo_url, f"SELECT count(*) FROM appeals WHERE {where}", args)[0][0]


def test_district_and_dates(client, demo_url):
    ((code, day),) = sql(
        demo_url,
        "SELECT d.code, (a.created_at AT TIME ZONE 'Europe/Kyiv')::date FROM appeals a"
        " JOIN districts d ON d.id = a.district_id ORDER BY a.id LIMIT 1",
    )
    params = {"district": code, "date_from": (day - dt.timedelta(days=10)).isoformat(),
              "date_to": day.isoformat()}  # fmt: skip
    _, rows = read_csv(client, params)
    expected = sql(
        demo_url,
        "SELECT count(*) FROM appeals a JOIN districts d ON d.id = a.district_id"
        " WHERE d.code = %s AND (a.created_at AT TIME ZONE 'Europe/Kyiv')::date"
        " BETWEEN %s AND %s",
        (code, day - dt.timedelta(days=10), day),
    )[0][0]
    assert len(rows) == expected > 0
    assert {r["CATUTTC"] for r in rows} == {code}


def test_no_personal_data_and_text_only_with_consent(client, demo_url):
    body, rows = read_csv(client)
    text = body.decode("utf-8-sig")
    authors = sql(
        demo_url,
        "SELECT full_name, email, phone, postal_address FROM appeal_authors ORDER BY appeal_id",
    )
    assert authors
    for author in authors:
        for value in author:
            if value and len(value) > 8:
                assert value not in text
    consent = dict(sql(demo_url, "SELECT id, is_public FROM appeals"))
    texts = dict(sql(demo_url, "SELECT id, text FROM appeals"))
    assert any(consent.values()) and not all(consent.values())
    for r in rows:
        if consent[int(r["Id"])]:
            assert r["text"] == texts[int(r["Id"])]
        else:
            assert r["text"] == ""


def test_geojson_same_count(client, demo_url):
    r = client.get(GEOJSON_URL, params={"status": "in_work"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/geo+json")
    data = r.json()
    assert data["type"] == "FeatureCollection"
    n = sql(demo_url, "SELECT count(*) FROM appeals WHERE status = 'in_work'")[0][0]
    assert len(data["features"]) == n > 0
    f = data["features"][0]
    assert f["geometry"]["type"] == "Point"
    assert set(opendata.FIELDS) == set(f["properties"])
    assert f["properties"]["status"] == "В роботі"


def test_streamed_in_chunks(client, demo_url, monkeypatch):
    """The whole table comes in many chunks (one per batch of the server-side cursor), not
    one body built in memory (batches of 100 here, so 1,500 appeals make 15 of them)."""
    monkeypatch.setattr(opendata, "BATCH", 100)
    total = sql(demo_url, "SELECT count(*) FROM appeals")[0][0]
    for url in (CSV_URL, GEOJSON_URL):
        with client.stream("GET", url) as r:
            assert r.status_code == 200
            assert "content-length" not in r.headers
            chunks = list(r.iter_raw())
        assert len(chunks) >= total // opendata.BATCH + 1 > 10


def test_bad_filters_are_400(client):
    for params, code in (
        ({"limit": "5"}, "unknown_parameter"),
        ({"status": "lost"}, "invalid_status"),
        ({"district": "UA0000"}, "unknown_district"),
        ({"bbox": "1,2"}, None),
    ):
        r = client.get(CSV_URL, params=params)
        assert r.status_code == 400, (params, r.text)
        if code:
            assert r.json()["code"] == code
    r = client.get(
        GEOJSON_URL, params={"date_from": "2025-13-01"}, headers={"Accept-Language": "en"}
    )
    assert r.status_code == 400
