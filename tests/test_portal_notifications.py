"""In Chromium: the administrator's "Сповіщення" section of /admin (webmap/static/js/admin.js)
— the notifications that failed for good, the recipient masked, and a button that queues one
again (POST /api/v1/admin/notifications/{id}/retry, gis/notify.py); and the links of a filed
appeal's mail, each opened as the author would."""

from __future__ import annotations

import httpx
import psycopg
from browser import run_async

from gis import notify
from gis.db import libpq_url
from gis.mail import LocalSmtpServer
from gis.settings import Settings

RECIPIENT = "olena.failed@example.com"


def _failed_notification(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO notifications (appeal_id, event_id, kind, channel, recipient, language,"
            " subject, body, status, attempts, last_error)"
            " SELECT id, NULL, 'answered', 'email', %s, 'uk', 'Тема', 'Текст', 'failed', 8,"
            " 'smtp: ConnectionRefusedError' FROM appeals ORDER BY id LIMIT 1",
            (RECIPIENT,),
        )


PORTAL = {"appeals": 50, "prepare": _failed_notification}


def _row(url: str) -> tuple:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(
            "SELECT n.status, n.attempts, a.number, (SELECT count(*) FROM procrastinate_jobs j"
            " WHERE j.task_name = 'notify.deliver' AND j.args ->> 'notification_id' = n.id::text)"
            " FROM notifications n JOIN appeals a ON a.id = n.appeal_id"
        ).fetchone()


def test_the_administrator_sees_a_failed_notification_and_queues_it_again(
    portal, signed_in, screenshot, browser_log
):
    status, attempts, number, jobs = _row(portal.db)
    assert (status, attempts, jobs) == ("failed", 8, 0)
    page = signed_in("admin")
    page.goto(portal.base + "/admin#notifications-title")
    page.wait_for_selector('#admin[data-state="ready"]', timeout=20_000)
    row = page.locator("#notifications-table tbody tr")
    assert row.count() == 1
    cells = row.locator("td").all_inner_texts()
    assert cells[0] == number and cells[1] == "відповідь" and cells[3] == "o…@…"
    assert cells[4] == "8" and "ConnectionRefusedError" in cells[5]
    assert RECIPIENT not in page.content()
    assert page.locator("#notifications-none").is_hidden()
    button = row.get_by_role(
        "button", name=f"Надіслати ще раз сповіщення щодо звернення № {number}"
    )
    button.click()
    page.wait_for_function(
        "() => document.getElementById('notifications-done').textContent.includes('знову в черзі')"
    )
    assert button.inner_text() == "У черзі" and button.is_disabled()
    screenshot(page, "admin_notifications")
    assert _row(portal.db) == ("pending", 0, number, 1)
    assert not browser_log.failed


def test_a_filed_appeals_mail_links_open_the_authors_pages_in_chromium(
    portal, page, screenshot, browser_log
):
    """An appeal filed through the live API; its registration notice delivered (the job's
    code, in-process) to a local SMTP server; each link of the mail opened in Chromium."""
    with psycopg.connect(portal.db, autocommit=True) as conn:
        (category,) = conn.execute(
            "SELECT id FROM categories WHERE parent_id IS NOT NULL AND is_active"
            " ORDER BY id LIMIT 1"
        ).fetchone()
    r = httpx.post(portal.base + "/api/v1/appeals", headers={"Accept-Language": "en"}, json={
        "category": category, "text": "The street light is out by the bus stop",
        "location": {"lon": 30.5234, "lat": 50.4501},
        "author": {"full_name": "Бойко Олена", "postal_address": "вул. Хрещатик, 1",
                   "email": "olena.mail@example.com"},
    })  # fmt: skip
    assert r.status_code == 201, r.text
    number = r.json()["number"]
    with LocalSmtpServer() as smtp:
        conf = Settings(database_url=portal.db, smtp_host="127.0.0.1", smtp_port=smtp.port)

        async def deliver():
            async with await psycopg.AsyncConnection.connect(
                libpq_url(portal.db), autocommit=True
            ) as c:
                cur = await c.execute(
                    "SELECT n.id FROM notifications n JOIN appeals a ON a.id = n.appeal_id"
                    " WHERE a.number = %s",
                    (number,),
                )
                return [await notify.deliver_one(c, conf, nid) for (nid,) in await cur.fetchall()]

        assert run_async(deliver) == ["sent"]
        mail = smtp.wait_for("olena.mail@example.com")
    assert mail["Subject"] == f"Appeal No. {number} is registered — Hromada GIS"
    links = [w for w in mail.get_content().split() if w.startswith("http")]
    card, unsubscribe = links
    assert card.startswith(portal.base + "/a/") and "/api/" not in card
    page.goto(card)
    page.wait_for_selector('#author[data-state="ready"]')
    assert number in page.locator("h1").inner_text()
    assert page.evaluate("() => document.documentElement.lang") == "en"
    screenshot(page, "mail_card_link")
    page.goto(unsubscribe)
    page.wait_for_selector("#unsubscribe-button")
    screenshot(page, "mail_unsubscribe_link")
    assert not browser_log.failed
