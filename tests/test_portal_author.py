"""The author's links in Debian's chromium, opened in a fresh browser (nobody signed in), as
from a notification: the appeal's page shows the executor's answer with its photo and the
author confirms it (→ closed, «Виконано / Підтверджено заявником»), rejects another with a
comment (→ rework), and unsubscribes (appeal_authors.unsubscribed_at). A tampered link shows
that it is not valid and offers no button."""

from __future__ import annotations

import datetime as dt
import io
from types import SimpleNamespace
from urllib.parse import quote

import httpx
import psycopg
import pytest
from browser import run_async
from playwright.sync_api import expect

from gis import accounts, author_links
from gis.db import libpq_url
from gis.lifecycle import R_CONFIRMED, R_DONE_AWAITING, R_REWORK_AUTHOR, R_TAKEN

PORTAL = {"seed": 23, "appeals": 200, "rate_limits_enabled": False}  # browser.portal's city
ANSWER = "Виконано: вибоїну засипано асфальтом, фото додаю."


def sql(url: str, query: str, params=None):
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(query, params)
        return cur.fetchall() if cur.description else None


def links(portal, number: str) -> dict[str, str]:
    (appeal_id,) = sql(portal.db, "SELECT id FROM appeals WHERE number = %s", (number,))[0]
    settings = SimpleNamespace(public_base_url=portal.base)

    async def main():
        conninfo = libpq_url(portal.db)
        async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as c:
            return await author_links.author_links(c, settings, appeal_id, number)

    return run_async(main)  # a live chromium keeps its loop in this thread


def png() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (40, 120, 200)).save(buf, "PNG")
    return buf.getvalue()


def bearer(portal, email: str) -> dict:
    async def make(c):
        cur = await c.execute("SELECT id FROM users WHERE email = %s", (email,))
        (user_id,) = await cur.fetchone()
        s = await accounts.create_session(c, user_id=user_id, kind="bearer", ip=None,
                                          user_agent="pytest", ttl=dt.timedelta(hours=1))  # fmt: skip
        return s.token

    async def main():
        conninfo = libpq_url(portal.db)
        async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as c:
            return await make(c)

    return {"Authorization": f"Bearer {run_async(main)}"}


@pytest.fixture(scope="module")
def answered(portal):
    """Three appeals of the demo executor's organisation, answered "done" by the executor
    through the API (the first with a photo): on check, awaiting their authors."""
    executor = portal.account("executor")
    numbers = sorted(r[0] for r in sql(
        portal.db,
        "UPDATE appeals SET status = 'in_work', result = %s, closed_at = NULL,"
        " deadline_at = now() + interval '5 days' WHERE id IN (SELECT a.id FROM appeals a"
        " JOIN users u ON u.executor_id = a.executor_id JOIN appeal_authors au"
        " ON au.appeal_id = a.id WHERE u.email = %s ORDER BY a.id LIMIT 3) RETURNING number",
        (R_TAKEN, executor.login),
    ))  # fmt: skip
    assert len(numbers) == 3
    headers = bearer(portal, executor.login)
    for i, number in enumerate(numbers):
        files = {"photos": ("answer.png", png(), "image/png")} if i == 0 else None
        r = httpx.post(f"{portal.base}/api/v1/appeals/{quote(number)}/answer", headers=headers,
                       data={"text": f"{ANSWER} ({number})", "kind": "done"},
                       files=files)  # fmt: skip
        assert r.status_code == 200, r.text
    return numbers


def row(portal, number: str):
    return sql(portal.db, "SELECT a.status, a.result, au.unsubscribed_at FROM appeals a"
                          " JOIN appeal_authors au ON au.appeal_id = a.id"
                          " WHERE a.number = %s", (number,))[0]  # fmt: skip


def test_the_confirm_link_shows_the_answer_and_closes_the_appeal(
    portal, answered, new_context, screenshot
):
    number = answered[0]
    assert row(portal, number)[:2] == ("on_check", R_DONE_AWAITING)
    page = new_context().new_page()  # a fresh browser: no session, no CSRF token
    page.goto(links(portal, number)["confirm"])
    page.wait_for_selector('#author[data-state="ready"]')
    expect(page.locator("h1")).to_contain_text(number)
    expect(page.locator(".author-answer-text")).to_have_text(f"{ANSWER} ({number})")
    expect(page.locator(".author-result")).to_contain_text(R_DONE_AWAITING)
    # The category with its kind, as every desk names it ("Загальні питання" alone says little).
    ((kind, sub),) = sql(portal.db, "SELECT p.name, c.name FROM appeals a JOIN categories c"
                                    " ON c.id = a.category_id JOIN categories p"
                                    " ON p.id = c.parent_id WHERE a.number = %s", (number,))  # fmt: skip
    expect(page.locator(".author-category")).to_have_text(
        sub if sub.startswith(kind) else f"{kind} — {sub}"
    )
    # The answer's photo, loaded (the photos route serves answer photos to anyone).
    page.wait_for_function(
        "() => [...document.querySelectorAll('.author-answer-photos img')]"
        ".some(i => i.complete && i.naturalWidth > 0)"
    )
    # #confirm: the confirm button has the focus.
    assert page.evaluate("() => document.activeElement.id") == "confirm-button"
    screenshot(page, "author_confirm")
    page.keyboard.press("Enter")
    expect(page.locator("#author-done")).to_contain_text("Виконання підтверджено")
    assert row(portal, number)[:2] == ("closed", R_CONFIRMED)
    expect(page.locator("#author-decision")).to_be_hidden()
    expect(page.locator(".author-status-name")).to_have_text("Закрито")


def test_the_reject_link_returns_the_appeal_for_rework_with_a_comment(
    portal, answered, new_context
):
    number = answered[1]
    page = new_context().new_page()
    page.goto(links(portal, number)["reject"])
    page.wait_for_selector('#author[data-state="ready"]')
    # #reject: the comment has the focus; without one nothing is sent.
    assert page.evaluate("() => document.activeElement.id") == "reject-comment"
    page.click("#reject-button")
    expect(page.locator("#author-decision-error")).to_contain_text("що саме не виконано")
    assert row(portal, number)[0] == "on_check"
    page.fill("#reject-comment", "Яму засипали лише наполовину.")
    page.click("#reject-button")
    expect(page.locator("#author-done")).to_contain_text("на доопрацювання")
    assert row(portal, number)[:2] == ("rework", R_REWORK_AUTHOR)
    assert sql(portal.db, "SELECT e.actor, e.actor_user_id, e.internal FROM appeal_events e"
                          " JOIN appeals a ON a.id = e.appeal_id WHERE a.number = %s"
                          " AND e.action = 'reject'", (number,)) == [("заявник", None, True)]  # fmt: skip


def test_the_unsubscribe_link_and_a_tampered_one(portal, answered, new_context):
    number = answered[2]
    mine = links(portal, number)
    page = new_context().new_page()
    # A tampered token: the page says so and offers nothing to press.
    token = mine["card"].split("t=")[1]
    bad = mine["unsubscribe"].replace(token, token[:-1] + ("A" if token[-1] != "A" else "B"))
    response = page.goto(bad)
    assert response is not None and response.status == 403
    expect(page.locator("main .error").first).to_contain_text("Посилання недійсне")
    assert page.locator("#unsubscribe-button").count() == 0

    page.goto(mine["unsubscribe"])
    page.click("#unsubscribe-button")
    expect(page.locator("#author-done")).to_contain_text("Ви відписалися")
    assert row(portal, number)[2] is not None
    # Opened again: already done, no button.
    page.goto(mine["unsubscribe"])
    expect(page.locator("#unsubscribe")).to_be_hidden()
    expect(page.locator("#author-done")).to_contain_text("Ви відписалися")
    # The appeal's page of the same link is still there (still awaiting its author).
    page.goto(mine["card"])
    page.wait_for_selector('#author[data-state="ready"]')
    expect(page.locator("#author-decision")).to_be_visible()


def test_the_appeal_form_offers_the_channels_and_follows_the_contacts(portal, page):
    """/appeal/new: "Як повідомляти про хід розгляду" offers e-mail and 'none' (no SMS or
    Viber gateway is configured here); it follows the contacts typed until the author picks."""
    page.goto(portal.base + "/appeal/new")
    page.wait_for_selector('#appeal[data-state="ready"]')
    select = page.get_by_label("Як повідомляти про хід розгляду")
    options = select.locator("option").evaluate_all("os => os.map(o => o.value)")
    assert options == ["email", "none"]
    expect(select).to_have_value("email")
    page.fill("#phone", "+380 67 555 44 33")
    expect(select).to_have_value("none")  # a phone alone, and no SMS here
    page.fill("#email", "olha@example.test")
    expect(select).to_have_value("email")
    select.select_option("none")
    page.fill("#email", "olha.k@example.test")
    expect(select).to_have_value("none")  # the author's choice stays
