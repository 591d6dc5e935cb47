"""Routing, intake and transfer across councils (issue 17, slice A), on two real neighbours of
Zaporizhzhia oblast — Запорізька (ЗП) and Кушугумська (КШ), whose polygons share a border —
and an occupied third, Андрівська, all three from the Мінрегіон file in shared/data.

- Border parity: at every vertex of the shared border the database's decide() and the
  in-process BulkRouter pick the same single council, the lower KATOTTH code (Запорізька);
  at the edges' midpoints they agree too.
- Filing by point: the number carries the council's prefix, the executor is the council's.
- No point: `council` required with several councils, the named one's contact centre.
- Occupied: 400 council_occupied naming the council (uk and en); a council's own category is
  not offered by its neighbour (400).
- Transfer (art. 7): A → B by A's operator; A's staff then 404, B's queue has it, the public
  history says so, the author's notice is queued; after the fifth Kyiv day a council-bound
  curator gets 409 (gis.clock), an oblast curator may still; redirecting to B's executor: 400.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
from pathlib import Path

import numpy as np
import psycopg
import pytest
import staff
from fastapi.testclient import TestClient

from api import create_app
from gis import accounts, clock, lifecycle, routing
from gis.db import libpq_url
from gis.errors import InvalidInput
from gis.routing_bulk import BulkRouter
from gis.settings import Settings

REGION = Path("/work/shared/data/zaporizka_hromadas_minregion_atu_simplified_2024-04-28.geojson")
A_CODE, B_CODE, OCCUPIED_CODE = "UA23060070000082704", "UA23060110000049870", "UA23020010000034566"
AUTHOR = {
    "full_name": "Коваленко Марія Петрівна",
    "email": "maria.kovalenko@example.com",
    "phone": "+380 61 123 45 67",
    "postal_address": "м. Запоріжжя, вул. Соборна, 1",
}
_n = itertools.count()


def _region_file() -> Path:
    if not REGION.exists():  # the shared data of this machine
        pytest.skip(f"{REGION} is not here")
    return REGION


def _run(url, fn):
    async def main():
        async with await psycopg.AsyncConnection.connect(libpq_url(url), autocommit=True) as c:
            return await fn(c)

    return asyncio.run(main())


sql = staff.sql


class Region:
    """Three councils, each with a contact centre, an executor and a city-wide rule."""

    def __init__(self, url: str, client: TestClient):
        self.url, self.client = url, client
        features = {
            f["properties"]["katottg"]: f
            for f in json.loads(_region_file().read_text())["features"]
        }  # fmt: skip
        self.council: dict[str, int] = {}
        self.executor: dict[str, int] = {}
        self.centre: dict[str, int] = {}
        with psycopg.connect(url, autocommit=True) as c:
            for code, slug, prefix, occupied in (
                (A_CODE, "zaporizka", "ЗП", None), (B_CODE, "kushuhumska", "КШ", None),
                (OCCUPIED_CODE, "andriivska", "АН", dt.date(2022, 2, 24)),
            ):  # fmt: skip
                f = features[code]
                c.execute(
                    "INSERT INTO hromadas (code, name, geom) VALUES (%s, %s,"
                    " ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(%s), 4326)))",
                    (code, f["properties"]["name_uk"], json.dumps(f["geometry"])),
                )
                self.council[slug] = c.execute(
                    "INSERT INTO councils (code, slug, name, number_prefix, occupied_since)"
                    " VALUES (%s, %s, %s, %s, %s) RETURNING id",
                    (code, slug, f["properties"]["name_uk"], prefix, occupied),
                ).fetchone()[0]
            self.cat = c.execute(
                "INSERT INTO categories (code, name) VALUES ('roads', 'Дороги') RETURNING id"
            ).fetchone()[0]
            # Кушугумська's own category: not offered by Запорізька.
            self.own = c.execute(
                "INSERT INTO categories (code, name, council_id)"
                " VALUES ('ksh-ferry', 'Поромна переправа', %s) RETURNING id",
                (self.council["kushuhumska"],),
            ).fetchone()[0]
            for slug, council_id in self.council.items():
                self.centre[slug] = c.execute(
                    "INSERT INTO executors (code, name, short_name, kind, council_id)"
                    " VALUES (%s, %s, %s, 'contact_centre', %s) RETURNING id",
                    (f"{slug}-cc", f"Контакт-центр {slug}", f"КЦ {slug}", council_id),
                ).fetchone()[0]
                self.executor[slug] = c.execute(
                    "INSERT INTO executors (code, name, short_name, kind, council_id)"
                    " VALUES (%s, %s, %s, 'utility', %s) RETURNING id",
                    (f"{slug}-roads", f"Дорожня служба {slug}", f"ДС {slug}", council_id),
                ).fetchone()[0]
                c.execute(
                    "INSERT INTO routing_rules (priority, category_id, executor_id, note,"
                    " council_id) VALUES (10, %s, %s, 'test', %s)",
                    (self.cat, self.executor[slug], council_id),
                )
            # A point well inside each council (not on the border).
            self.inside = {}
            for slug, code in (("zaporizka", A_CODE), ("kushuhumska", B_CODE),
                               ("andriivska", OCCUPIED_CODE)):  # fmt: skip
                lon, lat = c.execute(
                    "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(ST_Difference(h.geom,"
                    " coalesce((SELECT ST_Union(ST_Buffer(o.geom, 0.001)) FROM hromadas o"
                    " WHERE o.code <> h.code), 'POLYGON EMPTY'::geometry))) AS p"
                    " FROM hromadas h WHERE h.code = %s) x",
                    (code,),
                ).fetchone()
                self.inside[slug] = (lon, lat)
        a, b = self.council["zaporizka"], self.council["kushuhumska"]
        self.tokens = {
            "a_operator": self.token(self.user("operator", a)),
            "a_curator": self.token(self.user("curator", a)),
            "b_operator": self.token(self.user("operator", b)),
            "oblast_curator": self.token(self.user("curator", None)),
        }

    def user(self, role: str, council_id: int | None) -> int:
        return _run(self.url, lambda c: accounts.create_user(
            c, email=f"{role}-{next(_n)}@councils.test", password=None,
            full_name=f"Співробітник {role}", role=role, confirmed=True,
            council_id=council_id))  # fmt: skip

    def token(self, user_id: int) -> str:
        async def make(c):
            s = await accounts.create_session(c, user_id=user_id, kind="bearer", ip=None,
                                              user_agent="pytest", ttl=dt.timedelta(hours=1))  # fmt: skip
            return s.token

        return _run(self.url, make)

    def h(self, who: str, lang: str | None = None) -> dict:
        out = {"Authorization": f"Bearer {self.tokens[who]}"}
        if lang:
            out["Accept-Language"] = lang
        return out

    def file(self, *, at: str | None = None, council: str | None = None,
             category: int | None = None, lang: str | None = None):  # fmt: skip
        body: dict = {
            "category": category or self.cat,
            "text": "Глибока яма на проїжджій частині біля зупинки, небезпечно для авто.",
            "author": dict(AUTHOR),
        }
        if at is not None:
            lon, lat = self.inside[at]
            body["location"] = {"lon": lon, "lat": lat}
        else:
            body["location"] = {"no_location": True}
        if council is not None:
            body["council"] = council
        headers = {"Accept-Language": lang} if lang else {}
        return self.client.post("/api/v1/appeals", json=body, headers=headers)


@pytest.fixture
def region(db_url, tmp_path):
    settings = Settings(database_url=db_url, data_dir=tmp_path, rate_limits_enabled=False,
                        demo_mode=False)  # fmt: skip
    with TestClient(create_app(settings)) as client:
        yield Region(db_url, client)


def _border_points(url: str) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """The vertices of either polygon that both cover (the shared border), and the midpoints
    of the shared border's consecutive vertices."""
    rows = sql(
        url,
        "WITH a AS (SELECT geom FROM hromadas WHERE code = %s),"
        " b AS (SELECT geom FROM hromadas WHERE code = %s),"
        " v AS (SELECT (ST_DumpPoints(geom)).geom AS p FROM a"
        "       UNION SELECT (ST_DumpPoints(geom)).geom FROM b)"
        " SELECT DISTINCT ST_X(v.p), ST_Y(v.p) FROM v, a, b"
        " WHERE ST_Covers(a.geom, v.p) AND ST_Covers(b.geom, v.p) ORDER BY 1, 2",
        (A_CODE, B_CODE),
    )
    vertices = [(x, y) for x, y in rows]
    midpoints = [((x1 + x2) / 2, (y1 + y2) / 2)
                 for (x1, y1), (x2, y2) in itertools.pairwise(vertices)]  # fmt: skip
    return vertices, midpoints


def test_the_shared_border_goes_to_the_lower_code_in_sql_and_in_process(region):
    vertices, midpoints = _border_points(region.url)
    assert len(vertices) >= 2, vertices  # the two polygons do share a border
    a = region.council["zaporizka"]
    with psycopg.connect(region.url) as conn:
        bulk = BulkRouter.load(conn)
        points = vertices + midpoints
        got = bulk.route_many([p[0] for p in points], [p[1] for p in points],
                              [region.cat] * len(points))  # fmt: skip
        for (lon, lat), fast in zip(points, got, strict=True):
            if fast is None:  # a midpoint outside both (a concave stretch): SQL says so too
                with pytest.raises(InvalidInput) as refused:
                    routing.decide_sync(conn, lon=lon, lat=lat, category_id=region.cat)
                assert refused.value.code == "outside_service_area"
                continue
            slow = routing.decide_sync(conn, lon=lon, lat=lat, category_id=region.cat)
            assert (fast.council_id, fast.executor_id, fast.rule_id, fast.reason) == (
                slow.council_id, slow.executor_id, slow.rule_id, slow.reason
            ), (lon, lat)  # fmt: skip
        for (lon, lat), fast in zip(vertices, got, strict=False):  # both cover: lower code
            assert fast is not None, (lon, lat)
            assert (fast.council_id, fast.council_code) == (a, A_CODE), (lon, lat)
            assert fast.executor_id == region.executor["zaporizka"]
        # Inside each council: its own rule and executor, both ways.
        for slug in ("zaporizka", "kushuhumska"):
            lon, lat = region.inside[slug]
            slow = routing.decide_sync(conn, lon=lon, lat=lat, category_id=region.cat)
            (fast,) = bulk.route_many([lon], [lat], [region.cat])
            assert slow.council_id == fast.council_id == region.council[slug]
            assert slow.executor_id == fast.executor_id == region.executor[slug]
            # With several councils the reason names the council first (also in English).
            name = "Запорізька" if slug == "zaporizka" else "Кушугумська"
            assert slow.reason.startswith(f"Громада «{name}». Правило №"), slow.reason
            assert routing.reason_en(slow.reason).startswith(f"Community «{name}». Rule No. ")
        # No place: the named council's, else none (several councils).
        (none,) = bulk.route_many([np.nan], [np.nan], [region.cat])
        assert none is None
        (named,) = bulk.route_many([np.nan], [np.nan], [region.cat],
                                   councils=[region.council["kushuhumska"]])  # fmt: skip
        assert named is not None and named.executor_id == region.executor["kushuhumska"]
    lon, lat = vertices[0]
    r = region.client.get("/api/v1/areas", params={"lon": lon, "lat": lat})
    assert r.status_code == 200, r.text
    codes = {x["code"] for x in r.json()["areas"] if x["type"] == "hromada"}
    assert codes == {A_CODE, B_CODE}
    assert r.json()["council"]["code"] == A_CODE
    r = region.client.get("/api/v1/route", params={"lon": lon, "lat": lat, "category": "roads"})
    assert r.status_code == 200 and r.json()["council_code"] == A_CODE, r.text
    r = region.client.get("/api/v1/route", params={"category": "roads"})
    assert r.status_code == 400 and r.json()["code"] == "council_required", r.text
    r = region.client.get("/api/v1/route", params={"category": "roads", "council": B_CODE})
    assert r.status_code == 200, r.text
    assert r.json()["executor_id"] == region.executor["kushuhumska"]


def test_filing_in_each_council_by_point_or_by_name(region):
    for slug, prefix in (("zaporizka", "ЗП-"), ("kushuhumska", "КШ-")):
        r = region.file(at=slug)
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["number"].startswith(prefix + "К-"), body["number"]
        assert body["executor"]["id"] == region.executor[slug]
        assert body["council"]["slug"] == slug
        row = sql(region.url, "SELECT council_id FROM appeals WHERE number = %s",
                  (body["number"],))  # fmt: skip
        assert row[0][0] == region.council[slug]
    # No place: with several councils one must be named.
    r = region.file()
    assert r.status_code == 400 and r.json()["code"] == "council_required", r.text
    r = region.file(council="kushuhumska")
    assert r.status_code == 201, r.text
    assert r.json()["number"].startswith("КШ-")
    assert r.json()["executor"]["id"] == region.executor["kushuhumska"]
    # A council's own category: offered by it, not by its neighbour.
    r = region.file(at="zaporizka", category=region.own)
    assert r.status_code == 400 and r.json()["code"] == "category_not_in_council", r.text
    assert "Запорізька" in r.json()["detail"]
    r = region.file(at="kushuhumska", category=region.own)
    assert r.status_code == 201, r.text
    offered = {
        slug: {k["id"] for k in region.client.get(
            "/api/v1/categories", params={"council": slug}).json()["kinds"]}
        for slug in ("zaporizka", "kushuhumska")
    }  # fmt: skip
    assert region.own in offered["kushuhumska"] and region.own not in offered["zaporizka"]
    found = region.client.get("/api/v1/categories/search",
                              params={"q": "поромна переправа", "council": "zaporizka"})  # fmt: skip
    assert found.status_code == 200 and found.json()["items"] == [], found.text


def test_an_occupied_council_refuses_appeals_naming_it(region):
    for lang, words in (("uk", "тимчасово окупована"), ("en", "occupied")):
        r = region.file(at="andriivska", lang=lang)
        assert r.status_code == 400 and r.json()["code"] == "council_occupied", r.text
        assert "Андрівська" in r.json()["detail"] and words in r.json()["detail"], r.text
        r = region.file(council="andriivska", lang=lang)
        assert r.status_code == 400 and r.json()["code"] == "council_occupied", r.text
    assert sql(region.url, "SELECT count(*) FROM appeals")[0][0] == 0


def test_transfer_to_another_council_within_five_days(region):
    number = region.file(at="zaporizka").json()["number"]
    # Redirect stays within the council: B's executor is refused.
    r = region.client.post(f"/api/v1/appeals/{number}/redirect", headers=region.h("a_operator"),
                           json={"executor": "kushuhumska-roads", "reason": "Не наша"})  # fmt: skip
    assert r.status_code == 400 and r.json()["code"] == "executor_not_in_council", r.text
    r = region.client.post(f"/api/v1/appeals/{number}/transfer", headers=region.h("a_operator"),
                           json={"council": "zaporizka", "reason": "x"})  # fmt: skip
    assert r.status_code == 400 and r.json()["code"] == "transfer_same_council", r.text
    r = region.client.post(f"/api/v1/appeals/{number}/transfer", headers=region.h("a_operator"),
                           json={"council": "kushuhumska",
                                 "reason": "Дорога на території Кушугума"})  # fmt: skip
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["council"]["slug"] == "kushuhumska" and out["late"] is False
    assert out["status"] == "registered" and out["author_notified"] is True
    row = sql(region.url, "SELECT council_id, executor_id FROM appeals WHERE number = %s",
              (number,))[0]  # fmt: skip
    # Its point lies in A: B's contact centre receives it (B's rules are for B's places).
    assert row == (region.council["kushuhumska"], region.centre["kushuhumska"])
    # A's staff no longer reach it; B's queue has it.
    assert region.client.get(f"/api/v1/queue/{number}",
                             headers=region.h("a_operator")).status_code == 404  # fmt: skip
    assert region.client.get(f"/api/v1/queue/{number}",
                             headers=region.h("b_operator")).status_code == 200  # fmt: skip
    queue = region.client.get("/api/v1/queue", headers=region.h("b_operator")).json()
    assert number in {i["number"] for i in queue["items"]}
    history = region.client.get(f"/api/v1/appeals/{number}/history").json()
    step = [e for e in history["events"] if e["action"] == "transfer"]
    assert step and step[0]["council"] == "Кушугумська"
    assert step[0]["reason"] == "Дорога на території Кушугума"
    kinds = sql(region.url, "SELECT n.kind FROM notifications n JOIN appeals a"
                            " ON a.id = n.appeal_id WHERE a.number = %s", (number,))  # fmt: skip
    assert ("redirected",) in kinds
    # Art. 7's five days: on the sixth Kyiv day a council-bound curator is refused.
    late = region.file(at="zaporizka").json()["number"]
    clock.travel(dt.timedelta(days=6))
    try:
        r = region.client.post(f"/api/v1/appeals/{late}/transfer", headers=region.h("a_curator"),
                               json={"council": "kushuhumska", "reason": "Пізно"})  # fmt: skip
        assert r.status_code == 409 and r.json()["code"] == "transfer_too_late", r.text
        r = region.client.post(f"/api/v1/appeals/{late}/transfer",
                               headers=region.h("oblast_curator"),
                               json={"council": B_CODE, "reason": "Пізно, але належить"})  # fmt: skip
        assert r.status_code == 200 and r.json()["late"] is True, r.text
    finally:
        clock.travel(dt.timedelta(days=-6))
    # Not to an occupied council.
    other = region.file(at="zaporizka").json()["number"]
    r = region.client.post(f"/api/v1/appeals/{other}/transfer", headers=region.h("a_operator"),
                           json={"council": "andriivska", "reason": "x"})  # fmt: skip
    assert r.status_code == 400 and r.json()["code"] == "council_occupied", r.text


# --- the curator's «Передати в іншу громаду» (a browser; last in the module: see browser.py) ---


def _second_council(url: str) -> None:
    """The Kyiv demo city plus Запорізька (its council, prefix ЗП, and a contact centre), and
    one appeal returned as not in competence, registered today."""
    f = next(f for f in json.loads(_region_file().read_text())["features"]
             if f["properties"]["katottg"] == A_CODE)  # fmt: skip
    with psycopg.connect(url) as c:
        c.execute(
            "INSERT INTO hromadas (code, name, geom) VALUES (%s, 'Запорізька',"
            " ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(%s), 4326)))",
            (A_CODE, json.dumps(f["geometry"])),
        )
        council = c.execute(
            "INSERT INTO councils (code, slug, name, number_prefix)"
            " VALUES (%s, 'zaporizka', 'Запорізька', 'ЗП') RETURNING id",
            (A_CODE,),
        ).fetchone()[0]
        c.execute(
            "INSERT INTO executors (code, name, short_name, kind, council_id) VALUES"
            " ('zp-cc', 'Контакт-центр Запоріжжя', 'КЦ Запоріжжя', 'contact_centre', %s)",
            (council,),
        )
        c.execute(
            "UPDATE appeals SET status = 'registered', result = %s, closed_at = NULL,"
            " privileged = true, created_at = now(), updated_at = now() - interval '400 days',"
            " deadline_at = now() + interval '15 days', extended_until = NULL,"
            " executor_id = (SELECT id FROM executors WHERE kind = 'contact_centre'"
            "                 AND council_id <> %s ORDER BY id LIMIT 1)"
            " WHERE id = (SELECT max(id) FROM appeals WHERE geom IS NOT NULL)",
            (lifecycle.R_NOT_COMPETENT, council),
        )
        c.execute(
            "INSERT INTO appeal_events (appeal_id, actor, action, comment)"
            " SELECT max(id), 'Виконавець (демо)', 'return', 'Це не Київ' FROM appeals"
            " WHERE geom IS NOT NULL"
        )


PORTAL = {"seed": 11, "appeals": 300, "prepare": _second_council}


def test_a_curator_transfers_an_appeal_to_another_council(
    portal, signed_in, screenshot, browser_log
):
    (number,) = sql(portal.db, "SELECT number FROM appeals WHERE status = 'registered'"
                               " AND result = %s", (lifecycle.R_NOT_COMPETENT,))[0]  # fmt: skip
    page = signed_in("curator", viewport={"width": 1280, "height": 900})
    page.click("#link-curator")
    page.wait_for_url(portal.base + "/curator")
    page.wait_for_selector('#curator[data-state="ready"]', timeout=20_000)
    page.click('.queue-tab[data-queue="not_competent"]')
    page.click(f'#queue-table tbody tr[data-number="{number}"] button')
    page.wait_for_function(
        f"() => document.getElementById('card').dataset.number === {json.dumps(number)}"
    )
    assert page.is_visible("#transfer-form")
    assert "залишилось 5" in page.inner_text("#transfer-days")
    page.select_option("#transfer-council", "zaporizka")
    page.fill("#transfer-reason", "Місце звернення — у Запоріжжі")
    screenshot(page, "curator-transfer-form")
    page.click("#transfer-submit")
    page.wait_for_function("() => document.getElementById('card-done').textContent !== ''")
    assert "Запорізька" in page.inner_text("#card-done")
    (council,) = sql(portal.db, "SELECT k.slug FROM appeals a JOIN councils k"
                                " ON k.id = a.council_id WHERE a.number = %s", (number,))[0]  # fmt: skip
    assert council == "zaporizka"
    screenshot(page, "curator-transferred")
