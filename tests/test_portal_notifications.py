"""The administrator's "Сповіщення" section of /admin (webmap/static/js/admin.js): the
notifications that failed for good, the recipient masked, and a button that queues one again
(POST /api/v1/admin/notifications/{id}/retry, gis/notify.py) — in Chromium."""

from __future__ import annotations

import psycopg

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
