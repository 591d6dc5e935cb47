"""The author's notifications (gis/notify.py) with the real parts: the API writes them in the
change's transaction, real `hromada worker` processes deliver them to the local SMTP server
(gis/mail.LocalSmtpServer) or to a local HTTP receiver standing for the SMS gateway.

- filing an appeal through the API queues one registration notice, delivered once, in the
  author's language, whose links open portal pages;
- 40 notifications and two workers: exactly 40 mails, none twice;
- a worker killed (SIGKILL) while the SMS gateway holds its request: the job of the dead
  worker runs again (jobs.retry_stalled) on a new worker and the message is delivered once;
- SMTP down: tries with a growing wait, then 'failed', listed by the admin API; its retry
  delivers once the server is back.

Each test prints its delivery figures (counts, attempts, seconds).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import live
import psycopg
import pytest
from fastapi.testclient import TestClient
from live import wait_for
from test_lifecycle import City

from api import create_app
from gis import clock
from gis.embedded import free_port
from gis.mail import LocalSmtpServer
from gis.settings import Settings

POINT = {"lon": 30.5234, "lat": 50.4501}


# --- real workers (tests/live.py) ---------------------------------------------------------------

# A dead worker's job runs again after 4 s here (the SIGKILL test waits for it); a worker's exit
# status is not asserted.
start_worker = partial(live.start_worker, stalled_after_seconds=4)
stop_worker = partial(live.stop_worker, check=False)


def rows(url: str, query: str, params=None) -> list[tuple]:
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(query, params)
        return cur.fetchall() if cur.description else []


def smtp_env(port: int, **extra: str) -> dict:
    return {"HROMADA_SMTP_HOST": "127.0.0.1", "HROMADA_SMTP_PORT": str(port), **extra}


# --- a local SMS gateway -------------------------------------------------------------------------


class Receiver:
    """An HTTP server on 127.0.0.1 that keeps every POST (headers, JSON); with `hang_first` it
    holds the first request unanswered until `release` is set."""

    def __init__(self, hang_first: bool = False) -> None:
        self.requests: list[tuple[dict, dict]] = []
        self.answered: list[dict] = []
        self.release = threading.Event()
        self.hang_first = hang_first
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's API)
                size = int(self.headers.get("Content-Length") or 0)
                payload = json.loads(self.rfile.read(size) or b"{}")
                with receiver._lock:
                    receiver.requests.append((dict(self.headers), payload))
                    first = len(receiver.requests) == 1
                if receiver.hang_first and first:
                    receiver.release.wait(120)
                    return  # never answered: the sender is gone by now
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"ok": true}')
                with receiver._lock:
                    receiver.answered.append(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/send"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


# --- the city ------------------------------------------------------------------------------------


def make_city(db_url, smtp_port: int, tmp_path, **settings_kw):
    settings = Settings(database_url=db_url, smtp_host="127.0.0.1", smtp_port=smtp_port,
                        rate_limits_enabled=False, demo_mode=False, data_dir=tmp_path,
                        **settings_kw)  # fmt: skip
    client = TestClient(create_app(settings))
    client.__enter__()
    city = City(db_url, client, None)
    city.settings = settings
    return city


def file_appeal(city: City, *, email: str | None, phone: str | None = None,
                lang: str | None = None, channel: str | None = None) -> str:  # fmt: skip
    author = {"full_name": "Коваленко Марія Петрівна", "postal_address": "вул. Хрещатик, 1"}
    if email:
        author["email"] = email
    if phone:
        author["phone"] = phone
    if channel:
        author["notify_channel"] = channel
    headers = {"Accept-Language": lang} if lang else {}
    r = city.client.post("/api/v1/appeals", headers=headers, json={
        "category": "roads", "text": "Яма на дорозі біля зупинки", "location": dict(POINT),
        "author": author,
    })  # fmt: skip
    assert r.status_code == 201, r.text
    return r.json()["number"]


def portal_page(city: City, link: str) -> str:
    """The page a link opens: it must be HTML of the portal, never JSON."""
    parts = urlsplit(link)
    base = urlsplit(city.settings.public_base_url)
    assert (parts.scheme, parts.netloc) == (base.scheme, base.netloc), link
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    r = city.client.get(path)
    assert r.status_code == 200, (link, r.status_code)
    assert r.headers["content-type"].startswith("text/html"), (link, r.headers["content-type"])
    return r.text


def links_in(text: str) -> list[str]:
    return [w for w in text.split() if w.startswith("http")]


# --- tests ---------------------------------------------------------------------------------------


def test_a_filed_appeal_is_told_once_in_the_authors_language_with_portal_links(
    db_url, smtp_server, tmp_path
):
    city = make_city(db_url, smtp_server.port, tmp_path)
    try:
        en = file_appeal(city, email="Author.EN@notify.test", lang="en")
        uk = file_appeal(city, email="author.uk@notify.test")
        queued = rows(db_url, "SELECT a.number, n.kind, n.channel, n.language, n.status"
                              " FROM notifications n JOIN appeals a ON a.id = n.appeal_id"
                              " ORDER BY n.id")  # fmt: skip
        assert queued == [(en, "registered", "email", "en", "pending"),
                          (uk, "registered", "email", "uk", "pending")]  # fmt: skip
        started = time.monotonic()
        worker = start_worker(db_url, "mail", smtp_env(smtp_server.port))
        try:
            mail_en = smtp_server.wait_for("author.en@notify.test", timeout=60)
            mail_uk = smtp_server.wait_for("author.uk@notify.test", timeout=60)
            seconds = time.monotonic() - started
            # The worker's sweeper and a second look find nothing more to send.
            time.sleep(2)
        finally:
            stop_worker(worker)
        assert len(smtp_server.messages_to("author.en@notify.test")) == 1
        assert len(smtp_server.messages_to("author.uk@notify.test")) == 1
        # In the author's language only, with the number, the term and the card's link.
        assert mail_en["Subject"] == f"Appeal No. {en} is registered — Hromada GIS"
        body_en = mail_en.get_content()
        assert "Your appeal is registered under No." in body_en and "Ваше" not in body_en
        assert mail_uk["Subject"] == f"Звернення № {uk} зареєстровано — Hromada GIS"
        assert "Строк розгляду — до" in mail_uk.get_content()
        (nid,) = rows(db_url, "SELECT n.id FROM notifications n JOIN appeals a"
                              " ON a.id = n.appeal_id WHERE a.number = %s", (en,))[0]  # fmt: skip
        assert mail_en["Message-ID"].startswith(f"<notification-{nid}@")  # the same at any try
        # Every link opens a portal page, never JSON.
        found = links_in(body_en)
        assert len(found) >= 2 and not any("/api/" in link for link in found), found
        for link in found:
            portal_page(city, link)
        sent = rows(db_url, "SELECT status, attempts, sent_at IS NOT NULL FROM notifications")
        assert sent == [("sent", 1, True)] * 2
        print(
            f"\nregistration: 2 appeals filed → 2 mails (1 per author), attempts 1 each, "
            f"delivered within {seconds:.1f} s of the worker's start"
        )
    finally:
        city.client.__exit__(None, None, None)


def test_an_answer_tells_the_author_what_and_until_when_and_links_to_confirm(
    db_url, smtp_server, tmp_path
):
    city = make_city(db_url, smtp_server.port, tmp_path)
    try:
        number = file_appeal(city, email="answer@notify.test", lang="en")
        h = city.h("executor")
        assert city.client.post(f"/api/v1/appeals/{number}/take", headers=h).status_code == 200
        r = city.client.post(f"/api/v1/appeals/{number}/answer", headers=h,
                             json={"text": "The pothole is filled", "kind": "done"})  # fmt: skip
        assert r.status_code == 200, r.text
        assert city.deliver() == 2  # the registration, the answer (in-process: notify.deliver)
        smtp_server.wait_for("answer@notify.test")
        mail = smtp_server.wait_for("answer@notify.test")
        body = mail.get_content()
        answered_at = rows(db_url, "SELECT answered_at FROM appeals WHERE number = %s",
                           (number,))[0][0]  # fmt: skip
        closes = answered_at + dt.timedelta(days=city.settings.appeal_confirm_days)
        closes_day = closes.astimezone(clock.KYIV).date()  # in English: an ISO date
        assert mail["Subject"] == f"Appeal No. {number}: an answer has arrived — Hromada GIS"
        assert "The pothole is filled" in body
        assert "close by itself" in body
        assert f"on {closes_day.isoformat()}." in body
        for link in links_in(body):
            portal_page(city, link)
        confirm = next(link for link in links_in(body) if link.endswith("#confirm"))
        # The author confirms from the mail's link (its page posts the link's token).
        token = parse_qs(urlsplit(confirm).query)["t"][0]
        r = city.client.post(f"/api/v1/appeals/{number}/author-confirm", json={"token": token})
        assert r.status_code == 200, r.text
        assert city.row(number)[0] == "closed"
        # The author closed it: nobody else to tell, nothing queued for them.
        assert rows(db_url, "SELECT kind FROM notifications ORDER BY id") == [
            ("registered",),
            ("answered",),
        ]
    finally:
        city.client.__exit__(None, None, None)


def test_forty_notifications_two_workers_forty_mails(db_url, smtp_server, tmp_path):
    city = make_city(db_url, smtp_server.port, tmp_path)
    try:
        workers = [start_worker(db_url, f"w{i}", smtp_env(smtp_server.port)) for i in (1, 2)]
        try:
            # Both workers listen before the 40 are filed: they compete for the jobs.
            wait_for(lambda: rows(db_url, "SELECT count(*) FROM procrastinate_workers")[0][0] == 2,
                     what="two workers up")  # fmt: skip
            started = time.monotonic()
            numbers = [file_appeal(city, email=f"author{i}@forty.test") for i in range(40)]
            wait_for(lambda: len(smtp_server.messages) >= 40, timeout=120, what="40 mails")
            seconds = time.monotonic() - started
            time.sleep(3)  # anything sent twice would arrive by now
            by_worker = rows(
                db_url,
                "SELECT coalesce(j.worker_id::text, '-'), count(*) FROM procrastinate_jobs j"
                " WHERE j.task_name = 'notify.deliver' GROUP BY 1 ORDER BY 1",
            )
        finally:
            for worker in workers:
                stop_worker(worker)
        assert len(numbers) == 40
        assert len(smtp_server.messages) == 40
        ids = [m["Message-ID"] for m in smtp_server.messages]
        assert len(set(ids)) == 40
        for i in range(40):
            assert len(smtp_server.messages_to(f"author{i}@forty.test")) == 1
        state = rows(db_url, "SELECT status, attempts, count(*) FROM notifications"
                             " GROUP BY status, attempts")  # fmt: skip
        assert state == [("sent", 1, 40)]
        print(
            f"\ntwo workers: 40 notifications → {len(smtp_server.messages)} mails, "
            f"{len(set(ids))} distinct, 0 duplicates, attempts 1 each, {seconds:.1f} s; "
            f"jobs run by worker: {dict(by_worker)}"
        )
    finally:
        city.client.__exit__(None, None, None)


def test_a_worker_killed_while_sending_an_sms_delivers_once_after_the_stalled_retry(
    db_url, smtp_server, tmp_path
):
    with Receiver(hang_first=True) as gateway:
        city = make_city(db_url, smtp_server.port, tmp_path, sms_gateway_url=gateway.url,
                         sms_gateway_token="gateway-token")  # fmt: skip
        env = smtp_env(smtp_server.port, HROMADA_SMS_GATEWAY_URL=gateway.url,
                       HROMADA_SMS_GATEWAY_TOKEN="gateway-token")  # fmt: skip
        try:
            number = file_appeal(city, email=None, phone="+380 67 765 43 21", channel="sms")
            (nid, channel, recipient) = rows(
                db_url, "SELECT id, channel, recipient FROM notifications")[0]  # fmt: skip
            assert (channel, recipient) == ("sms", "+380677654321")
            first = start_worker(db_url, "doomed", {**env, "HROMADA_GATEWAY_TIMEOUT": "120"})
            try:
                wait_for(lambda: len(gateway.requests) == 1, what="the first SMS request")
            finally:
                first.kill()  # SIGKILL, in the middle of the delivery
                first.wait(10)
                print((first.stdout.read() if first.stdout else "")[-2000:])
            killed = time.monotonic()
            assert rows(db_url, "SELECT status, attempts FROM notifications") == [("pending", 0)]
            assert rows(db_url, "SELECT status::text FROM procrastinate_jobs"
                                " WHERE task_name = 'notify.deliver'") == [("doing",)]  # fmt: skip
            second = start_worker(db_url, "heir", env)
            try:
                wait_for(lambda: rows(db_url, "SELECT status FROM notifications")[0][0] == "sent",
                         timeout=150, what="the SMS delivered by the second worker")  # fmt: skip
                seconds = time.monotonic() - killed
                time.sleep(2)
            finally:
                stop_worker(second)
            assert len(gateway.requests) == 2  # the one held when the worker died, the retry
            assert len(gateway.answered) == 1  # delivered (acknowledged) once
            headers, payload = gateway.requests[1]
            assert headers["Authorization"] == "Bearer gateway-token"
            assert payload["to"] == "+380677654321" and payload["id"] == str(nid)
            assert number in payload["text"]
            assert rows(db_url, "SELECT status, attempts FROM notifications") == [("sent", 1)]
            retried = rows(db_url, "SELECT count(*) FROM procrastinate_events e JOIN"
                                   " procrastinate_jobs j ON j.id = e.job_id WHERE"
                                   " j.task_name = 'notify.deliver' AND e.type = 'started'")[0][0]  # fmt: skip
            print(
                f"\nSIGKILL mid-delivery: gateway requests {len(gateway.requests)}, "
                f"acknowledged {len(gateway.answered)}, job started {retried} times, "
                f"delivered {seconds:.1f} s after the kill (stalled after 4 s, "
                "retry_stalled runs every 15 s)"
            )
        finally:
            city.client.__exit__(None, None, None)


def test_smtp_down_retries_with_a_growing_wait_then_failed_listed_and_retried(db_url, tmp_path):
    down = free_port()  # nothing listens there yet
    city = make_city(db_url, down, tmp_path)
    env = smtp_env(down, HROMADA_NOTIFY_RETRY_BASE_SECONDS="0.5", HROMADA_NOTIFY_MAX_ATTEMPTS="4")
    try:
        number = file_appeal(city, email="patient@notify.test")
        seen: dict[int, float] = {}  # attempts → the wait announced (next_attempt_at − seen)
        worker = start_worker(db_url, "retrier", env)
        started = time.monotonic()
        try:

            def watch():
                status, attempts, next_at = rows(
                    db_url, "SELECT status, attempts, next_attempt_at FROM notifications")[0]  # fmt: skip
                if attempts and attempts not in seen and status == "pending":
                    seen[attempts] = (next_at - dt.datetime.now(dt.UTC)).total_seconds()
                return status == "failed"

            wait_for(watch, timeout=90, what="the notification failed for good", step=0.05)
            failed_after = time.monotonic() - started
            (attempts, error) = rows(db_url, "SELECT attempts, last_error FROM notifications")[0]
            assert attempts == 4 and "smtp" in error
            # Waits of 0.5, 1 and 2 s announced after the 1st, 2nd and 3rd failure.
            assert sorted(seen) == [1, 2, 3], seen
            assert seen[1] < seen[2] < seen[3], seen
            assert 0.2 < seen[1] <= 0.5 and 0.7 < seen[2] <= 1.0 and 1.7 < seen[3] <= 2.0, seen

            admin = city.h("admin")
            listed = city.client.get("/api/v1/admin/notifications", params={"status": "failed"},
                                     headers=admin)  # fmt: skip
            assert listed.status_code == 200, listed.text
            (item,) = listed.json()["items"]
            assert item["number"] == number and item["recipient"] == "p…@…"
            assert item["attempts"] == 4 and item["status"] == "failed"
            assert "patient@notify.test" not in listed.text
            assert city.client.get("/api/v1/admin/notifications", params={"status": "failed"},
                                   headers=city.h("curator")).status_code == 403  # fmt: skip

            with LocalSmtpServer(port=down) as smtp:  # the server is back
                r = city.client.post(f"/api/v1/admin/notifications/{item['id']}/retry",
                                     headers=admin)  # fmt: skip
                assert r.status_code == 200, r.text
                assert r.json()["status"] == "pending" and r.json()["attempts"] == 0
                retried = time.monotonic()
                smtp.wait_for("patient@notify.test", timeout=60)
                delivered = time.monotonic() - retried
                time.sleep(1.5)
                assert len(smtp.messages_to("patient@notify.test")) == 1
        finally:
            stop_worker(worker)
        assert rows(db_url, "SELECT status, attempts FROM notifications") == [("sent", 1)]
        empty = city.client.get("/api/v1/admin/notifications", params={"status": "failed"},
                                headers=city.h("admin")).json()  # fmt: skip
        assert empty == {"items": [], "next": None}
        print(
            f"\nSMTP down: 4 tries, waits announced {[round(seen[k], 2) for k in (1, 2, 3)]} s "
            f"(base 0.5 s × 2^n), failed after {failed_after:.1f} s; listed for the admin; "
            f"after the retry delivered once in {delivered:.2f} s"
        )
    finally:
        city.client.__exit__(None, None, None)


@pytest.mark.parametrize("channel", ["sms", "viber"])
def test_a_channel_without_a_gateway_falls_back_to_email(db_url, smtp_server, tmp_path, channel):
    """Not offered at filing where its gateway is not configured (400); an author who chose it
    where it was, told after the gateway is gone, gets e-mail."""
    import asyncio

    from gis import notify
    from gis.db import libpq_url

    gateway = {f"{channel}_gateway_url": "http://127.0.0.1:9/send"}
    city = make_city(db_url, smtp_server.port, tmp_path, **gateway)
    try:
        file_appeal(city, email="fallback@notify.test", phone="+380671112233", channel=channel)
        (appeal_id,) = rows(db_url, "SELECT id FROM appeals")[0]
        gone = city.settings.model_copy(update={f"{channel}_gateway_url": None})
        assert notify.offered_channels(gone) == ["email"]

        async def extended():
            async with await psycopg.AsyncConnection.connect(
                libpq_url(db_url), autocommit=True
            ) as c:
                async with c.transaction():
                    return await notify.enqueue(
                        c, appeal_id=appeal_id, event_id=None, kind="extended", settings=gone,
                        params={"until": dt.datetime.now(dt.UTC), "reason": "Обстеження"},
                    )  # fmt: skip

        assert asyncio.run(extended()) == {"author": True, "supporters": 0}
        assert rows(db_url, "SELECT kind, channel, recipient FROM notifications ORDER BY id") == [
            ("registered", channel, "+380671112233"),
            ("extended", "email", "fallback@notify.test"),
        ]
    finally:
        city.client.__exit__(None, None, None)
    plain = city.settings.model_copy(update={f"{channel}_gateway_url": None})
    with TestClient(create_app(plain)) as client:
        r = client.post("/api/v1/appeals", json={
            "category": "roads", "text": "Яма на дорозі", "location": dict(POINT),
            "author": {"full_name": "Коваленко Марія", "postal_address": "вул. Хрещатик, 1",
                       "email": "x@notify.test", "phone": "+380671112233",
                       "notify_channel": channel},
        })  # fmt: skip
        assert r.status_code == 400 and r.json()["code"] == "notify_channel_not_offered"


def test_two_deliveries_of_one_notification_send_it_once_and_the_sweeper_finds_lost_ones(
    db_url, smtp_server, tmp_path
):
    """In-process, the same code the job runs: two concurrent notify.deliver for one row
    (the sweeper's and the original job, say) send one mail; a pending row whose job was lost
    gets a new one from the sweeper, once."""
    import asyncio

    from gis import notify
    from gis.db import libpq_url

    city = make_city(db_url, smtp_server.port, tmp_path)
    try:
        number = file_appeal(city, email="twice@notify.test")
        (nid,) = rows(db_url, "SELECT id FROM notifications")[0]

        async def both():
            url = libpq_url(db_url)
            async with (
                await psycopg.AsyncConnection.connect(url, autocommit=True) as a,
                await psycopg.AsyncConnection.connect(url, autocommit=True) as b,
            ):
                return await asyncio.gather(
                    notify.deliver_one(a, city.settings, nid),
                    notify.deliver_one(b, city.settings, nid),
                )

        outcomes = sorted(asyncio.run(both()))
        assert outcomes == ["sent", "skipped"]
        smtp_server.wait_for("twice@notify.test")
        time.sleep(0.5)
        assert len(smtp_server.messages_to("twice@notify.test")) == 1
        assert number in smtp_server.messages[0]["Subject"]

        async def sweep():
            async with await psycopg.AsyncConnection.connect(
                libpq_url(db_url), autocommit=True
            ) as c:
                return await notify.sweep_lost(c)

        # The registration's job is still 'todo' (no worker ran it): nothing is lost.
        file_appeal(city, email="lost@notify.test")
        assert asyncio.run(sweep()) == 0
        # Its job deleted (lost), the row due: the sweeper defers one, and only one.
        rows(db_url, "DELETE FROM procrastinate_jobs WHERE task_name = 'notify.deliver'")
        assert asyncio.run(sweep()) == 1
        assert asyncio.run(sweep()) == 0
        assert city.deliver() == 1
        smtp_server.wait_for("lost@notify.test")
    finally:
        city.client.__exit__(None, None, None)


def test_viber_goes_to_its_gateway_with_the_token(db_url, smtp_server, tmp_path):
    with Receiver() as gateway:
        city = make_city(db_url, smtp_server.port, tmp_path, viber_gateway_url=gateway.url,
                         viber_gateway_token="viber-token")  # fmt: skip
        try:
            number = file_appeal(city, email="v@notify.test", phone="067 111 22 33",
                                 channel="viber", lang="en")  # fmt: skip
            assert rows(db_url, "SELECT channel, recipient FROM notifications") == [
                ("viber", "+380671112233")
            ]
            assert city.deliver() == 1
            ((headers, payload),) = gateway.requests
            assert headers["Authorization"] == "Bearer viber-token"
            assert payload["to"] == "+380671112233"
            assert payload["text"].startswith(f"Appeal No. {number} is registered")
            assert "/a/" in payload["text"]  # the author's page
            assert smtp_server.messages_to("v@notify.test") == []
        finally:
            city.client.__exit__(None, None, None)


def test_closing_tells_the_author_and_each_supporter_once(db_url, smtp_server, tmp_path):
    """The author (who also appears among the supporters, in capitals) gets the author's
    closing mail only; another supporter gets the supporters' mail, with the public card."""
    city = make_city(db_url, smtp_server.port, tmp_path)
    try:
        number = file_appeal(city, email="both@notify.test", lang="en")
        rows(db_url, "INSERT INTO appeal_supporters (appeal_id, email) SELECT id, e FROM appeals,"
                     " unnest(ARRAY['BOTH@notify.test', 'fan@notify.test']) e")  # fmt: skip
        rows(db_url, "UPDATE appeals SET status = 'on_check' WHERE number = %s", (number,))
        r = city.client.post(f"/api/v1/appeals/{number}/check", json={"decision": "accept"},
                             headers=city.h("curator"))  # fmt: skip
        assert r.status_code == 200 and r.json()["supporters_notified"] == 1, r.text
        assert city.deliver() == 3  # the registration, the author's closing, the supporter's
        smtp_server.wait_for("both@notify.test")  # the registration
        author = smtp_server.wait_for("both@notify.test")
        fan = smtp_server.wait_for("fan@notify.test")
        time.sleep(0.5)
        assert len(smtp_server.messages_to("both@notify.test")) == 2
        assert len(smtp_server.messages_to("fan@notify.test")) == 1
        assert author["Subject"] == f"Appeal No. {number} is closed — Hromada GIS"
        assert "Your appeal" in author.get_content()
        body = fan.get_content()
        assert "яке ви підтримали" in body and "which you supported" in body
        card = city.settings.public_base_url + "/?number="
        assert card in body and "?t=" not in body  # never the author's signed link
        for link in links_in(body):
            portal_page(city, link)
    finally:
        city.client.__exit__(None, None, None)
