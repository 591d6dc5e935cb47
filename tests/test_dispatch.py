"""The daily dispatch (gis/dispatch.py) and the permit expiry notices, with the real parts: the
test database, the local SMTP server, a local webhook receiver (http.server in a thread) and
real `hromada worker` processes.

- e-mail: CSV (UTF-8 with BOM, header, one row per appeal: as many as SQL counts), XLSX
  (opened with openpyxl: frozen header, dates as dates, numbers as numbers), GeoJSON; the
  day's batch holds the appeals of the previous day only (a new subscription does not send
  the history), each appeal once: a second run and a second day send nothing already sent;
  the appeal's history records the dispatch (staff only, never in the public history);
  no author's data in any file;
- webhook: two workers, a receiver that answers 500 twice then 200: the batch arrives once,
  its signature verifies, attempts = 3;
- permit notices: each permit once per threshold (30 and 7 days).
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import hashlib
import hmac
import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg
import pytest
from live import start_worker, stop_worker, wait_for

from gis import clock, dispatch, jobs, lifecycle
from gis.settings import Settings

KYIV = clock.KYIV

# A district and a ward: squares around the centre; the drawn polygon: the west half.
SQUARE = "ST_Multi(ST_MakeEnvelope(30.40, 50.40, 30.60, 50.50, 4326))"
INSIDE = (30.45, 50.45)
OUTSIDE = (30.70, 50.45)
AUTHOR = ("Тарас Секретний", "taras.secret@example.org", "+380501112233")


def _q(url: str, query: str, params: tuple = ()):
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(query, params)
        return cur.fetchall() if cur.description else None


def _city(url: str) -> dict:
    """Categories (a kind with two sub-kinds, another kind), a district and a ward."""
    with psycopg.connect(url, autocommit=True) as conn:

        def category(code, name, parent=None):
            return conn.execute(
                "INSERT INTO categories (code, name, parent_id) VALUES (%s, %s, %s) RETURNING id",
                (code, name, parent),
            ).fetchone()[0]

        kind = category("t-order", "Порушення громадського порядку і безпеки")
        drugs = category("t-drugs", "Написи з рекламою наркотиків", kind)
        noise = category("t-noise", "Шум", kind)
        other = category("t-pits", "Ями на дорозі")
        district = conn.execute(
            f"INSERT INTO districts (code, name, geom) VALUES ('UA-T1', 'Тестовий', {SQUARE})"
            " RETURNING id"
        ).fetchone()[0]
        ward = conn.execute(
            f"INSERT INTO wards (number, name, geom) VALUES (7, 'Округ 7', {SQUARE}) RETURNING id"
        ).fetchone()[0]
    return {"kind": kind, "drugs": drugs, "noise": noise, "other": other,
            "district": district, "ward": ward}  # fmt: skip


def _appeal(url: str, city: dict, number: str, category: int, created: dt.datetime, *,
            at=INSIDE, public: bool = True) -> None:  # fmt: skip
    inside = at == INSIDE
    with psycopg.connect(url, autocommit=True) as conn:
        appeal = conn.execute(
            "INSERT INTO appeals (number, category_id, text, is_public, channel, created_at,"
            " deadline_at, geom, address, district_id, ward_id) VALUES (%s, %s, %s, %s, 'site',"
            " %s, %s, ST_SetSRID(ST_MakePoint(%s, %s), 4326), 'вул. Тестова, 1', %s, %s)"
            " RETURNING id",
            (number, category, f"Текст {number}", public, created,
             created + dt.timedelta(days=15), at[0], at[1],
             city["district"] if inside else None, city["ward"] if inside else None),
        ).fetchone()[0]  # fmt: skip
        conn.execute(
            "INSERT INTO appeal_authors (appeal_id, full_name, email, phone) VALUES (%s, %s,"
            " %s, %s)",
            (appeal, *AUTHOR),
        )


def _settings(url: str, **extra) -> Settings:
    return Settings(database_url=url, **extra)


def _morning(day: dt.date, hh: int = 7, mm: int = 5) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hh, mm), KYIV)


async def _run(url: str, now: dt.datetime) -> list[int]:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        return await dispatch.run_due(conn, now=now)


async def _deliver(url: str, batch_id: int) -> str:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        return await dispatch.deliver_batch(conn, batch_id, attempt=1, max_attempts=6)


async def _create(url: str, **kw) -> dict:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        return await dispatch.create_subscription(conn, **kw)


def _no_author(data: bytes) -> None:
    text = data.decode("utf-8", errors="replace")
    for secret in AUTHOR:
        assert secret not in text


def test_email_subscriptions_send_each_appeal_once_as_csv_xlsx_and_geojson(db_url, smtp_server):
    jobs.make_app(_settings(db_url, smtp_host="127.0.0.1", smtp_port=smtp_server.port), db_url)
    city = _city(db_url)
    police = "police-demo@hromada.localhost"
    # The kind stands for its sub-kinds: the csv subscription gets drugs and noise.
    csv_sub = asyncio.run(_create(db_url, name="Поліція", category_ids=[city["kind"]],
                                  district_code="UA-T1", email=police, send_at="07:00",
                                  format="csv"))  # fmt: skip
    xlsx_sub = asyncio.run(_create(db_url, name="Округ 7", category_ids=[city["drugs"]],
                                   ward_number=7, email="ward7@example.org", send_at="07:00",
                                   format="xlsx"))  # fmt: skip
    west = {"type": "Polygon", "coordinates": [[[30.4, 50.4], [30.5, 50.4], [30.5, 50.5],
                                                [30.4, 50.5], [30.4, 50.4]]]}  # fmt: skip
    geo_sub = asyncio.run(_create(db_url, name="Полігон", category_ids=[city["drugs"]],
                                  area={"type": "Feature", "geometry": west, "properties": {}},
                                  email="geo@example.org", send_at="07:30",
                                  format="geojson"))  # fmt: skip
    assert geo_sub["area"]["type"] == "MultiPolygon" and "webhook_secret" not in geo_sub

    made = dt.datetime.fromisoformat(csv_sub["created_at"])
    today = made.astimezone(KYIV).date()
    tomorrow = today + dt.timedelta(days=1)
    _appeal(db_url, city, "D-1", city["drugs"], made - dt.timedelta(hours=20))
    _appeal(db_url, city, "D-2", city["noise"], made - dt.timedelta(hours=2), public=False)
    _appeal(db_url, city, "D-3", city["other"], made - dt.timedelta(hours=3))  # not subscribed
    _appeal(db_url, city, "D-4", city["drugs"], made - dt.timedelta(hours=1), at=OUTSIDE)
    _appeal(db_url, city, "D-5", city["drugs"], made - dt.timedelta(days=3))  # history: not sent
    _appeal(db_url, city, "D-6", city["drugs"], _morning(tomorrow, 7, 1))  # after the send time

    # Before 07:00 nothing is due; at 07:05 two batches (the polygon's waits for 07:30).
    assert asyncio.run(_run(db_url, _morning(tomorrow, 6, 55))) == []
    first = asyncio.run(_run(db_url, _morning(tomorrow)))
    assert len(first) == 2
    assert asyncio.run(_run(db_url, _morning(tomorrow, 7, 10))) == []  # a second run: none
    first += asyncio.run(_run(db_url, _morning(tomorrow, 7, 35)))
    assert len(first) == 3
    jobs_deferred = _q(db_url, "SELECT count(*) FROM procrastinate_jobs WHERE task_name ="
                               " 'dispatch.deliver'")[0][0]  # fmt: skip
    assert jobs_deferred == 3
    for batch in first:
        assert asyncio.run(_deliver(db_url, batch)) == "sent"
        assert asyncio.run(_deliver(db_url, batch)) == "already sent"

    def items(sub):
        return sorted(r[0] for r in _q(db_url, "SELECT a.number FROM dispatch_items i JOIN"
                                              " appeals a ON a.id = i.appeal_id WHERE"
                                              " i.subscription_id = %s", (sub["id"],)))  # fmt: skip

    assert items(csv_sub) == ["D-1", "D-2"]
    assert items(xlsx_sub) == ["D-1"]
    assert items(geo_sub) == ["D-1", "D-6"]  # its time, 07:30, is after D-6 (07:01)

    # CSV: BOM, the header, as many rows as SQL counts; the private text is not there.
    mail = smtp_server.wait_for(police)
    assert "Поліція" in mail["Subject"]
    (attachment,) = list(mail.iter_attachments())
    data = attachment.get_payload(decode=True)
    assert (
        attachment.get_filename().endswith(".csv") and attachment.get_content_type() == "text/csv"
    )
    assert data[:3] == b"\xef\xbb\xbf"
    _no_author(data)
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][:4] == ["Номер", "Тип", "Категорія", "Вид"]
    sql_count = _q(db_url, "SELECT count(*) FROM dispatch_items WHERE batch_id = %s",
                   (first[0],))[0][0]  # fmt: skip
    assert len(rows) - 1 == sql_count == 2
    by_number = {r[0]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    assert by_number["D-1"]["Текст (оприлюднений)"] == "Текст D-1"
    assert by_number["D-2"]["Текст (оприлюднений)"] == ""  # no consent: no text
    assert by_number["D-1"]["Вид"] == "Порушення громадського порядку і безпеки"
    assert by_number["D-1"]["Район"] == "Тестовий" and by_number["D-1"]["Округ"] == "7"
    assert float(by_number["D-1"]["Довгота"]) == pytest.approx(INSIDE[0])

    # XLSX: typed cells, the header frozen.
    from openpyxl import load_workbook

    mail = smtp_server.wait_for("ward7@example.org")
    (attachment,) = list(mail.iter_attachments())
    data = attachment.get_payload(decode=True)
    _no_author(data)
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet.freeze_panes == "A2"
    header = [c.value for c in sheet[1]]
    values = dict(zip(header, [c.value for c in sheet[2]], strict=True))
    assert sheet.max_row == 2 and values["Номер"] == "D-1"
    assert isinstance(values["Зареєстровано"], dt.datetime)
    assert isinstance(values["Довгота"], float) and isinstance(values["Округ"], int)
    filed = (made - dt.timedelta(hours=20)).astimezone(KYIV).replace(tzinfo=None)
    assert abs(values["Зареєстровано"] - filed) < dt.timedelta(seconds=60)

    # GeoJSON.
    mail = smtp_server.wait_for("geo@example.org")
    (attachment,) = list(mail.iter_attachments())
    data = attachment.get_payload(decode=True)
    _no_author(data)
    collection = json.loads(data)
    assert collection["type"] == "FeatureCollection"
    assert [f["properties"]["number"] for f in collection["features"]] == ["D-1", "D-6"]
    feature = collection["features"][0]
    assert feature["geometry"]["coordinates"] == pytest.approx(list(INSIDE))

    # The history: an internal event per dispatch, not in the public history.
    events = _q(db_url, "SELECT e.actor, e.internal, e.new->>'to' FROM appeal_events e JOIN"
                        " appeals a ON a.id = e.appeal_id WHERE a.number = 'D-1'"
                        " AND e.action = 'dispatch' ORDER BY e.id")  # fmt: skip
    assert [e[2] for e in events] == [police, "ward7@example.org", "geo@example.org"]
    assert all(e[0] == "system" and e[1] for e in events)

    async def public_history():
        async with await psycopg.AsyncConnection.connect(db_url) as conn:
            return await lifecycle.history(conn, "D-1")

    assert all(i["action"] != "dispatch" for i in asyncio.run(public_history())["events"])

    # The next morning: only D-6 (filed after yesterday's send time); nothing twice.
    smtp_server.clear()
    second = asyncio.run(_run(db_url, _morning(tomorrow + dt.timedelta(days=1))))
    assert len(second) == 2  # the polygon's time (07:30) has not come yet
    for batch in second:
        asyncio.run(_deliver(db_url, batch))
    assert items(csv_sub) == ["D-1", "D-2", "D-6"]
    assert items(xlsx_sub) == ["D-1", "D-6"]
    rows = list(csv.reader(io.StringIO(
        next(smtp_server.wait_for(police).iter_attachments()).get_payload(decode=True).decode("utf-8-sig")
    )))  # fmt: skip
    assert [r[0] for r in rows[1:]] == ["D-6"]
    assert items(geo_sub) == ["D-1", "D-6"]
    assert _q(db_url, "SELECT count(*) FROM appeal_events WHERE action = 'dispatch'")[0][0] == 7


# --- webhook, through real workers ---------------------------------------------------------


class Receiver:
    """A webhook endpoint: answers 500 to the first `fail` requests, then 204; keeps them."""

    def __init__(self, fail: int) -> None:
        self.fail = fail
        self.requests: list[tuple[dict, bytes]] = []
        self.accepted: list[bytes] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's API)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                ok = len(receiver.requests) > receiver.fail
                if ok:
                    receiver.accepted.append(body)
                self.send_response(204 if ok else 500)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook?token=t0ken"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_webhook_failing_twice_gets_its_batch_once_signed_after_three_attempts(db_url):
    city = _city(db_url)
    receiver = Receiver(fail=2)
    jobs.make_app(_settings(db_url), db_url)
    try:
        sub = asyncio.run(_create(db_url, name="Вебхук", category_ids=[city["drugs"]],
                                  webhook_url=receiver.url, send_at="00:00",
                                  format="geojson"))  # fmt: skip
        secret = sub["webhook_secret"]
        assert len(secret) == 64 and sub["webhook_url"] == receiver.url
        # Made two days ago, so that yesterday's appeals are its to send whatever the hour.
        start = clock.now() - dt.timedelta(days=2)
        _q(db_url, "UPDATE dispatch_subscriptions SET created_at = %s", (start,))
        today = clock.kyiv_today()
        midnight = dt.datetime.combine(today, dt.time(), KYIV)
        _appeal(db_url, city, "W-1", city["drugs"], midnight - dt.timedelta(hours=5))
        _appeal(db_url, city, "W-2", city["drugs"], midnight - dt.timedelta(hours=9))
        _appeal(db_url, city, "W-3", city["other"], midnight - dt.timedelta(hours=9))

        env = {"HROMADA_DISPATCH_RETRY_BASE_SECONDS": "0.5", "HROMADA_DISPATCH_MAX_ATTEMPTS": "6"}
        workers = [start_worker(db_url, "d1", env), start_worker(db_url, "d2", env)]
        try:
            wait_for(lambda: _q(db_url, "SELECT status FROM dispatch_batches")
                     == [("sent",)], timeout=90, what="the batch sent")  # fmt: skip
        finally:
            outs = [stop_worker(w) for w in workers]
    finally:
        receiver.close()

    assert len(receiver.requests) == 3 and len(receiver.accepted) == 1
    assert _q(db_url, "SELECT count(*), min(attempts), max(attempts), bool_and(last_error IS"
                      " NULL) FROM dispatch_batches") == [(1, 3, 3, True)]  # fmt: skip
    headers, body = receiver.requests[-1]
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-Hromada-Signature"] == expected
    payload = json.loads(body)
    assert payload["subscription_id"] == sub["id"] and payload["day"] == today.isoformat()
    numbers = sorted(f["properties"]["number"] for f in payload["appeals"]["features"])
    assert numbers == ["W-1", "W-2"] and payload["count"] == 2
    _no_author(body)
    # The failed attempts were the same batch: the same appeals every time.
    assert all(json.loads(b)["appeals"] == payload["appeals"] for _, b in receiver.requests)
    assert _q(db_url, "SELECT count(*) FROM dispatch_items") == [(2,)]
    assert _q(db_url, "SELECT count(*) FROM procrastinate_jobs WHERE task_name ="
                      " 'dispatch.deliver'") == [(1,)]  # fmt: skip
    assert any("attempt 2 of 6 failed: HTTP 500" in out for out in outs)
    # The scheduler ran the periodic task (both workers' schedulers: one job per tick).
    runs = _q(db_url, "SELECT count(*), count(DISTINCT args->>'timestamp') FROM"
                      " procrastinate_jobs WHERE task_name = 'dispatch.run' AND status = 'succeeded'")[0]  # fmt: skip
    assert runs[0] >= 1 and runs[0] == runs[1]
    # The history names the webhook by its host only (its query carries a token).
    assert _q(db_url, "SELECT DISTINCT new->>'to' FROM appeal_events WHERE action = 'dispatch'"
              ) == [("127.0.0.1",)]  # fmt: skip


def test_a_batch_failing_every_attempt_is_flagged_and_can_be_retried(db_url):
    city = _city(db_url)
    receiver = Receiver(fail=10**6)
    jobs.make_app(_settings(db_url, dispatch_max_attempts=2), db_url)
    try:
        sub = asyncio.run(_create(db_url, name="Ненадійний", category_ids=[city["drugs"]],
                                  webhook_url=receiver.url, send_at="07:00"))  # fmt: skip
        made = dt.datetime.fromisoformat(sub["created_at"])
        _appeal(db_url, city, "F-1", city["drugs"], made - dt.timedelta(hours=1))
        (batch,) = asyncio.run(
            _run(db_url, _morning(made.astimezone(KYIV).date() + dt.timedelta(days=1)))
        )

        async def attempt(n):
            async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as conn:
                return await dispatch.deliver_batch(conn, batch, attempt=n, max_attempts=2)

        for n in (1, 2):
            with pytest.raises(dispatch.DeliveryFailed, match="HTTP 500"):
                asyncio.run(attempt(n))
        assert _q(db_url, "SELECT status, attempts, last_error FROM dispatch_batches") == [
            ("failed", 2, "HTTP 500")
        ]

        async def retry():
            async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as conn:
                return await dispatch.retry_batch(conn, sub["id"], batch)

        assert asyncio.run(retry())["status"] == "pending"
        assert _q(db_url, "SELECT count(*) FROM procrastinate_jobs WHERE task_name ="
                          " 'dispatch.deliver'") == [(2,)]  # fmt: skip
        from gis.errors import Conflict

        with pytest.raises(Conflict):
            asyncio.run(retry())  # only a failed batch
        receiver.fail = 0
        assert asyncio.run(attempt(1)) == "sent"
        assert _q(db_url, "SELECT status, attempts FROM dispatch_batches") == [("sent", 3)]
    finally:
        receiver.close()


# --- permit expiry notices -----------------------------------------------------------------


def test_permit_notices_tell_the_planners_once_per_threshold(db_url, smtp_server):
    jobs.make_app(_settings(db_url, smtp_host="127.0.0.1", smtp_port=smtp_server.port), db_url)
    today = clock.kyiv_today()
    with psycopg.connect(db_url, autocommit=True) as conn:
        for email, role, active in (("planner1@example.org", "planner", True),
                                    ("planner2@example.org", "planner", True),
                                    ("gone@example.org", "planner", False),
                                    ("admin@example.org", "admin", True)):  # fmt: skip
            conn.execute("INSERT INTO users (email, full_name, role, is_active) VALUES"
                         " (%s, 'X', %s, %s)", (email, role, active))  # fmt: skip
        for code, days in (("AD-5", 5), ("AD-20", 20), ("AD-40", 40), ("AD-OLD", -1)):
            conn.execute(
                "INSERT INTO advertising_structures (code, kind, permit_number,"
                " permit_valid_until, address, geom) VALUES (%s, 'billboard', %s, %s,"
                " 'вул. Реклами, 2', ST_SetSRID(ST_MakePoint(30.5, 50.45), 4326))",
                (code, f"P-{code}", today + dt.timedelta(days=days)),
            )
        conn.execute(
            "INSERT INTO kiosks (code, kind, permit_number, permit_valid_until, geom) VALUES"
            " ('K-25', 'kiosk', 'P-K-25', %s, ST_SetSRID(ST_MakePoint(30.5, 50.45), 4326))",
            (today + dt.timedelta(days=25),),
        )

    async def run(day):
        async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as conn:
            return await dispatch.notify_permits(conn, today=day, now=clock.now())

    assert asyncio.run(run(today)) == 3  # AD-5 (7 days), AD-20 and K-25 (30 days)
    for planner in ("planner1@example.org", "planner2@example.org"):
        body = smtp_server.wait_for(planner).get_content()
        week, month = body.split("Протягом 30 днів")[0], body.split("Протягом 30 днів")[1]
        assert "AD-5" in week and "AD-20" not in week
        assert "AD-20" in month.split("---")[0] and "K-25" in month and "AD-40" not in body
        assert "AD-5" not in month.split("---")[0]
    assert len(smtp_server.messages) == 2  # not the inactive planner, not the admin
    assert _q(db_url, "SELECT count(*) FROM permit_notices") == [(4,)]  # AD-5 twice: 30 and 7

    assert asyncio.run(run(today)) == 0  # the same day again: nothing new
    assert asyncio.run(run(today + dt.timedelta(days=1))) == 0
    # Two weeks on: AD-20 is within 7 days (new), AD-40 within 30 (new).
    assert asyncio.run(run(today + dt.timedelta(days=14))) == 2
    assert len(smtp_server.messages) == 4
    body = smtp_server.messages[-1].get_content()
    assert "AD-20" in body.split("Протягом 30 днів")[0] and "AD-40" in body
    assert "AD-5" not in body and "K-25" not in body.split("---")[0].split("Протягом 30")[0]
    assert _q(db_url, "SELECT threshold_days, count(*) FROM permit_notices GROUP BY 1"
                      " ORDER BY 1") == [(7, 2), (30, 4)]  # fmt: skip


# --- the API (administrator only) ------------------------------------------------------------


def test_the_api_creates_changes_lists_retries_and_deletes_subscriptions(db_url):
    from fastapi.testclient import TestClient
    from test_roles import auth, token_for

    from api import create_app

    city = _city(db_url)
    users = {}
    with psycopg.connect(db_url, autocommit=True) as conn:
        for role in ("admin", "planner"):
            users[role] = conn.execute(
                "INSERT INTO users (email, full_name, role) VALUES (%s, 'X', %s) RETURNING id",
                (f"{role}@example.org", role),
            ).fetchone()[0]
    admin, planner = (auth(token_for(db_url, users[r])) for r in ("admin", "planner"))
    base = "/api/v1/admin/dispatch"
    with TestClient(create_app(Settings(database_url=db_url))) as client:
        assert client.get(base).status_code == 401
        assert client.get(base, headers=planner).status_code == 403
        good = {"name": "Поліція", "category_ids": [city["kind"]], "district_code": "UA-T1",
                "email": "police@example.org", "send_at": "07:00", "format": "csv"}  # fmt: skip
        for bad, code in (
            ({"email": None}, "dispatch_one_recipient"),
            ({"webhook_url": "https://x.example/h"}, "dispatch_one_recipient"),
            ({"email": "not-an-address"}, "invalid_email"),
            ({"email": None, "webhook_url": "ftp://x.example/h"}, "invalid_value"),
            ({"ward_number": 7}, "dispatch_one_area"),
            ({"district_code": "UA-NONE"}, "unknown_district"),
            ({"category_ids": []}, "field_required"),
            ({"category_ids": [999999]}, "unknown_category"),
            ({"district_code": None, "area": {"type": "Point", "coordinates": [30, 50]}},
             "dispatch_area_invalid"),
            ({"district_code": None, "area": {"type": "Polygon", "coordinates": [[[1, 2]]]}},
             "dispatch_area_invalid"),
        ):  # fmt: skip
            r = client.post(base, headers=admin, json={**good, **bad})
            assert r.status_code == 400, (bad, r.text)
            assert r.json()["code"] == code, (bad, r.json())
        r = client.post(base, headers={**admin, "Accept-Language": "en"},
                        json={**good, "email": None})  # fmt: skip
        assert r.json()["detail"].startswith("Give one recipient")
        r = client.post(base, headers=admin, json={**good, "format": "pdf"})
        assert r.status_code == 400

        r = client.post(base, headers=admin, json=good)
        assert r.status_code == 201, r.text
        sub = r.json()
        assert sub["send_at"] == "07:00" and sub["last_batch"] is None
        assert "webhook_secret" not in sub or sub["webhook_secret"] is None
        r = client.patch(f"{base}/{sub['id']}", headers=admin,
                         json={"is_active": False, "send_at": "06:30", "format": "xlsx"})  # fmt: skip
        assert r.status_code == 200, r.text
        assert (r.json()["is_active"], r.json()["send_at"], r.json()["format"]) == (
            False, "06:30", "xlsx")  # fmt: skip
        r = client.patch(f"{base}/{sub['id']}", headers=admin,
                         json={"webhook_url": "https://police.example/hook"})  # fmt: skip
        assert r.status_code == 200 and len(r.json()["webhook_secret"]) == 64
        assert r.json()["email"] is None
        assert client.get(f"{base}/{sub['id']}", headers=admin).json()["webhook_secret"] is None
        assert client.get(f"{base}/999999", headers=admin).json()["code"] == "dispatch_not_found"

        # A failed batch: listed with its error, retried once (409 the second time).
        with psycopg.connect(db_url, autocommit=True) as conn:
            batch = conn.execute(
                "INSERT INTO dispatch_batches (subscription_id, day, status, attempts,"
                " last_error) VALUES (%s, '2026-12-01', 'failed', 6, 'HTTP 500') RETURNING id",
                (sub["id"],),
            ).fetchone()[0]
        listed = client.get(base, headers=admin).json()
        assert listed["returned"] == 1
        assert listed["items"][0]["last_batch"]["status"] == "failed"
        r = client.get(f"{base}/{sub['id']}/batches", headers=admin)
        assert r.json()["items"][0] == {**r.json()["items"][0], "id": batch, "attempts": 6,
                                        "last_error": "HTTP 500", "appeals": 0}  # fmt: skip
        r = client.post(f"{base}/{sub['id']}/batches/{batch}/retry", headers=admin)
        assert r.status_code == 200 and r.json()["status"] == "pending"
        r = client.post(f"{base}/{sub['id']}/batches/{batch}/retry", headers=admin)
        assert r.status_code == 409 and r.json()["code"] == "dispatch_batch_not_failed"
        assert _q(db_url, "SELECT count(*) FROM procrastinate_jobs WHERE task_name ="
                          " 'dispatch.deliver' AND args->>'batch_id' = %s",
                  (str(batch),)) == [(1,)]  # fmt: skip

        assert client.delete(f"{base}/{sub['id']}", headers=admin).status_code == 204
        assert client.delete(f"{base}/{sub['id']}", headers=admin).status_code == 404
        assert _q(db_url, "SELECT count(*) FROM dispatch_batches") == [(0,)]
    # Audited as the administrator's other changes: who, what changed, never the address.
    trail = _q(db_url, "SELECT action, actor_user_id, old::text, new::text FROM feature_events"
                       " WHERE layer = 'dispatch_subscriptions' ORDER BY id")  # fmt: skip
    assert [(a, u) for a, u, _, _ in trail] == [("created", users["admin"]), ("changed", users["admin"]),
                                                ("changed", users["admin"]), ("deleted", users["admin"])]  # fmt: skip
    assert '"recipient": "webhook"' in trail[2][3] and '"new_secret": true' in trail[2][3]
    assert all("police" not in (old or "") + (new or "") for _, _, old, new in trail)


# --- the demo city -------------------------------------------------------------------------


def test_the_demo_city_sends_drug_advertising_to_the_police_each_morning(
    server_url, template_url, shared_data, smtp_server
):
    from conftest import demo_city

    from importers.demo import dispatch as demo_dispatch

    now = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    with demo_city(server_url, template_url, shared_data, "dispatch", seed=3, appeals=600,
                   now=now) as url:  # fmt: skip
        ((cat_id, kind, source),) = _q(
            url, "SELECT c.id, p.name, c.source FROM categories c JOIN categories p"
                 " ON p.id = c.parent_id WHERE c.name = 'Написи з рекламою наркотиків'",
        )  # fmt: skip
        assert kind == "Порушення громадського порядку і безпеки" and "added" in source
        # The demo's routing sends them to the police; the kind's appeals include them.
        assert _q(url, "SELECT DISTINCT e.code FROM routing_rules r JOIN executors e ON e.id ="
                       " r.executor_id WHERE r.category_id = %s", (cat_id,)) == [("demo-police",)]  # fmt: skip
        ((sub_id, cats, email, send_at, fmt),) = _q(
            url, "SELECT id, category_ids, recipient_email, send_at, format FROM"
                 " dispatch_subscriptions",
        )  # fmt: skip
        assert (cats, email, send_at, fmt) == (
            [cat_id], demo_dispatch.POLICE_EMAIL, dt.time(7, 0), "csv")  # fmt: skip
        # A citizen's appeal of the day before the morning (the generated year ends at `now`).
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(
                "INSERT INTO appeals (number, category_id, text, channel, created_at, deadline_at,"
                " geom) VALUES ('DEMO-DRUGS-1', %s, 'На паркані напис з рекламою наркотиків',"
                " 'site', %s, %s, ST_SetSRID(ST_MakePoint(30.52, 50.45), 4326))",
                (cat_id, now + dt.timedelta(hours=2), now + dt.timedelta(days=15)),
            )
        expected = _q(url, "SELECT count(*) FROM appeals WHERE category_id = %s AND created_at"
                           " >= %s AND created_at < %s",
                      (cat_id, now - dt.timedelta(days=1),
                       dt.datetime.combine(dt.date(2026, 11, 2), dt.time(7), KYIV)))[0][0]  # fmt: skip
        assert expected >= 1
        jobs.make_app(_settings(url, smtp_host="127.0.0.1", smtp_port=smtp_server.port), url)
        morning = dt.datetime.combine(dt.date(2026, 11, 2), dt.time(7, 5), KYIV)
        (batch,) = asyncio.run(_run(url, morning))
        assert asyncio.run(_deliver(url, batch)) == "sent"
        mail = smtp_server.wait_for(demo_dispatch.POLICE_EMAIL)
        (attachment,) = list(mail.iter_attachments())
        rows = list(
            csv.reader(io.StringIO(attachment.get_payload(decode=True).decode("utf-8-sig")))
        )
        assert len(rows) - 1 == expected and "DEMO-DRUGS-1" in [r[0] for r in rows]
        assert asyncio.run(_run(url, morning + dt.timedelta(hours=1))) == []  # once a day
        assert sub_id == _q(url, "SELECT subscription_id FROM dispatch_batches")[0][0]


def test_a_worker_runs_the_permit_notices_task(db_url, smtp_server):
    """The task as the scheduler defers it, run by a real `hromada worker`: one digest."""
    today = clock.kyiv_today()
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("INSERT INTO users (email, full_name, role) VALUES"
                     " ('planner@example.org', 'X', 'planner')")  # fmt: skip
        conn.execute(
            "INSERT INTO kiosks (code, kind, permit_number, permit_valid_until, geom) VALUES"
            " ('K-3', 'kiosk', 'P-K-3', %s, ST_SetSRID(ST_MakePoint(30.5, 50.45), 4326))",
            (today + dt.timedelta(days=3),),
        )

    async def defer():
        async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as conn:
            async with conn.transaction():
                await jobs.defer_in(conn, "permits.notify", {"timestamp": 1}, queue="periodic")

    asyncio.run(defer())
    smtp = {"HROMADA_SMTP_HOST": "127.0.0.1", "HROMADA_SMTP_PORT": str(smtp_server.port)}
    worker = start_worker(db_url, "permits", smtp)
    try:
        mail = smtp_server.wait_for("planner@example.org", timeout=60)
        wait_for(lambda: _q(db_url, "SELECT status FROM procrastinate_jobs WHERE task_name ="
                                    " 'permits.notify'") == [("succeeded",)], timeout=90,
                 what="the job")  # fmt: skip
    finally:
        stop_worker(worker)
    assert "K-3" in mail.get_content() and "P-K-3" in mail.get_content()
    assert _q(db_url, "SELECT threshold_days FROM permit_notices ORDER BY 1") == [(7,), (30,)]
