"""Permits over time (issue 16, item 4): the planners' list of expiring and expired permits
(gis/permits.py, GET /api/v1/planner/permits) by Kyiv's day, whatever the server's (UTC) day;
the daily digest to the owning department's planners (gis/dispatch.py notify_permits); and
what the public layer shows of a permit (its end date, never a private holder)."""

from __future__ import annotations

import asyncio
import datetime as dt

import psycopg
import pytest
from fastapi.testclient import TestClient
from test_roles import auth, token_for

from api import create_app
from gis import clock, dispatch, jobs
from gis.settings import Settings

URL = "/api/v1/planner/permits"
REKLAMA = 'КП "Київреклама"'


def _structure(conn, code: str, days: int | None, *, today: dt.date, retired: bool = False,
               owner: str = "ТОВ «Рекламіст»", person: bool = False) -> None:  # fmt: skip
    conn.execute(
        "INSERT INTO advertising_structures (code, kind, owner, holder_is_person, permit_number,"
        " permit_type, permit_valid_until, address, retired_at, geom) VALUES (%s, 'billboard',"
        " %s, %s, %s, 'реклама', %s, 'вул. Реклами, 2', %s,"
        " ST_SetSRID(ST_MakePoint(30.5, 50.45), 4326))",
        (code, owner, person, f"P-{code}",
         None if days is None else today + dt.timedelta(days=days),
         clock.now() if retired else None),
    )  # fmt: skip


def _kiosk(conn, code: str, days: int, *, today: dt.date) -> None:
    conn.execute(
        "INSERT INTO kiosks (code, kind, owner, permit_number, permit_valid_until, address, geom)"
        " VALUES (%s, 'kiosk', 'ФОП Кіоскер', %s, %s, 'просп. Перемоги, 1',"
        " ST_Multi(ST_Buffer(ST_SetSRID(ST_MakePoint(30.45, 50.45), 4326), 0.00005)))",
        (code, f"P-{code}", today + dt.timedelta(days=days)),
    )


def _layers(conn, structures: str | None, kiosks: str | None) -> None:
    for name, dept in (("advertising_structures", structures), ("kiosks", kiosks)):
        conn.execute(
            "INSERT INTO layers (name, title, geometry_type, kind, owner_department)"
            " VALUES (%s, %s, 'Point', 'core', %s)",
            (name, name, dept),
        )


def _user(conn, email: str, role: str, executor_id: int | None = None) -> int:
    return conn.execute(
        "INSERT INTO users (email, full_name, role, executor_id) VALUES (%s, 'X', %s, %s)"
        " RETURNING id",
        (email, role, executor_id),
    ).fetchone()[0]


def _codes(body: dict) -> list[str]:
    return [item["code"] for item in body["items"]]


def test_expiring_and_expired_by_kyiv_day_for_planners_only(db_url):
    # Kyiv is 2–3 hours ahead of UTC: at 22:30 UTC it is already tomorrow there. The list
    # must count by Kyiv's day, not by the cluster's current_date (still today in UTC).
    now = clock.now()
    late = dt.datetime.combine(now.date(), dt.time(22, 30), dt.UTC)
    if late < now:
        late += dt.timedelta(days=1)
    clock.travel(late - now)
    try:
        today = clock.kyiv_today()
        assert today == late.date() + dt.timedelta(days=1)  # Kyiv's day ≠ UTC's day
        with psycopg.connect(db_url, autocommit=True) as conn:
            _layers(conn, REKLAMA, "КП «Київблагоустрій»")
            for code, days in (("AD-MINUS1", -1), ("AD-0", 0), ("AD-30", 30), ("AD-31", 31),
                               ("AD-MINUS40", -40), ("AD-NONE", None)):  # fmt: skip
                _structure(conn, code, days, today=today)
            _structure(conn, "AD-RETIRED", -5, today=today, retired=True)
            _structure(conn, "AD-RETIRED2", 5, today=today, retired=True)
            _kiosk(conn, "K-10", 10, today=today)
            users = {role: _user(conn, f"{role}@permits.test", role)
                     for role in ("planner", "admin", "citizen", "operator")}  # fmt: skip
        headers = {role: auth(token_for(db_url, uid)) for role, uid in users.items()}
        with TestClient(create_app(Settings(database_url=db_url))) as client:
            assert client.get(URL).status_code == 401
            for role in ("citizen", "operator"):
                assert client.get(URL, headers=headers[role]).status_code == 403

            r = client.get(URL, headers=headers["planner"])
            assert r.status_code == 200, r.text
            body = r.json()
            assert body["today"] == today.isoformat() and body["status"] == "expiring"
            # The soonest first; today's end date is still expiring (0 days left), 31 days not.
            assert _codes(body) == ["AD-0", "K-10", "AD-30"]
            assert [i["days_left"] for i in body["items"]] == [0, 10, 30]
            assert body["counts"] == {"expiring": 3, "expired": 2}
            first = body["items"][0]
            assert first["layer"] == "advertising_structures" and first["department"] == REKLAMA
            assert first["owner"] == "ТОВ «Рекламіст»" and first["permit_type"] == "реклама"
            assert first["permit_valid_until"] == today.isoformat()
            assert body["items"][1]["department"] == "КП «Київблагоустрій»"
            assert (first["lon"], first["lat"]) == (30.5, 50.45)

            r = client.get(URL, params={"status": "expired"}, headers=headers["admin"])
            assert r.status_code == 200
            # Yesterday's permit has expired (−1); the latest first; retired ones never listed.
            assert _codes(r.json()) == ["AD-MINUS1", "AD-MINUS40"]
            assert [i["days_left"] for i in r.json()["items"]] == [-1, -40]

            r = client.get(URL, params={"layer": "kiosks"}, headers=headers["planner"])
            assert _codes(r.json()) == ["K-10"]
            assert r.json()["counts"] == {"expiring": 1, "expired": 0}
            r = client.get(URL, params={"limit": 1}, headers=headers["planner"])
            assert _codes(r.json()) == ["AD-0"] and r.json()["counts"]["expiring"] == 3

            for bad in ({"status": "valid"}, {"layer": "districts"}, {"limit": 0}):
                r = client.get(URL, params=bad, headers=headers["planner"])
                assert r.status_code == 400, (bad, r.text)
                assert set(r.json()) >= {"code", "detail"}
    finally:
        clock.travel(now - late)


def test_the_digest_goes_to_the_owning_departments_planners(db_url, smtp_server):
    jobs.make_app(
        Settings(database_url=db_url, smtp_host="127.0.0.1", smtp_port=smtp_server.port), db_url
    )
    today = clock.kyiv_today()
    with psycopg.connect(db_url, autocommit=True) as conn:
        # The structures' department has a planner (bound to a sub-organisation of it); the
        # kiosks' department has none: every active planner is told of the kiosks.
        reklama = conn.execute(
            "INSERT INTO executors (code, name, short_name, kind) VALUES"
            " ('reklama', %s, 'Київреклама', 'utility') RETURNING id",
            (REKLAMA,),
        ).fetchone()[0]
        unit = conn.execute(
            "INSERT INTO executors (code, name, kind, parent_id) VALUES"
            " ('reklama-permits', 'Відділ дозволів', 'utility', %s) RETURNING id",
            (reklama,),
        ).fetchone()[0]
        _layers(conn, REKLAMA, "Управління торгівлі")
        _user(conn, "reklama-planner@permits.test", "planner", unit)
        _user(conn, "city-planner@permits.test", "planner")
        _user(conn, "admin@permits.test", "admin")
        _structure(conn, "AD-5", 5, today=today)
        _kiosk(conn, "K-20", 20, today=today)

    async def run():
        async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as conn:
            return await dispatch.notify_permits(conn, today=today, now=clock.now())

    assert asyncio.run(run()) == 2
    own = smtp_server.wait_for("reklama-planner@permits.test").get_content()
    city = smtp_server.wait_for("city-planner@permits.test").get_content()
    assert len(smtp_server.messages) == 2  # one digest each, none to the administrator
    uk_own, uk_city = own.split("---")[0], city.split("---")[0]
    assert "AD-5" in uk_own and "K-20" in uk_own  # their department's and the unowned kiosks
    assert "AD-5" not in city and "K-20" in uk_city
    assert f"Відповідальний підрозділ: {REKLAMA}; Управління торгівлі." in uk_own
    assert "Відповідальний підрозділ: Управління торгівлі." in uk_city
    assert "Responsible department: Управління торгівлі." in city


@pytest.mark.parametrize("person", [True, False])
def test_the_public_layer_shows_the_end_date_never_a_private_holder(db_url, person):
    today = clock.kyiv_today()
    with psycopg.connect(db_url, autocommit=True) as conn:
        _structure(conn, "AD-OLD", -3, today=today, owner="Іван Приватний", person=person)
    with TestClient(create_app(Settings(database_url=db_url))) as client:
        r = client.get("/ogc/collections/advertising_structures/items")
        assert r.status_code == 200, r.text
        (feature,) = r.json()["features"]
        p = feature["properties"]
        # The public map colours it expired by Kyiv's day from its end date.
        assert p["permit_valid_until"] == (today - dt.timedelta(days=3)).isoformat()
        assert p["owner"] == (None if person else "Іван Приватний")
        assert "Іван Приватний" not in r.text if person else "holder_is_person" not in p
        one = client.get(f"/ogc/collections/advertising_structures/items/{feature['id']}")
        assert ("Іван Приватний" in one.text) is not person
