"""A citizen's "my appeals" in Debian's chromium: signed in, they see their appeals with the
executor's answer, confirm one result (→ closed) and reject another (→ rework). Switched to
English, the statuses, dates and buttons are English, and so is the API's refusal of a result
already decided elsewhere, shown under that appeal's buttons."""

from __future__ import annotations

import datetime as dt
import re
from types import SimpleNamespace

import httpx
import psycopg
import pytest
from browser import run_async, sign_in
from playwright.sync_api import expect

from gis import accounts
from gis.db import libpq_url

PASSWORD = "Київ-1551-мої-звернення"
CITIZEN = "olena.myappeals@example.test"


def _run(url: str, fn):
    async def main():
        async with await psycopg.AsyncConnection.connect(libpq_url(url), autocommit=True) as c:
            return await fn(c)

    return run_async(main)  # a live chromium keeps its loop in this thread


def user(url: str, role: str, email: str, password: str | None = None, **binding) -> int:
    return _run(url, lambda c: accounts.create_user(
        c, email=email, password=password, full_name="Коваленко Олена Петрівна", role=role,
        confirmed=True, **binding,
    ))  # fmt: skip


def token(url: str, user_id: int) -> dict:
    async def make(c):
        s = await accounts.create_session(
            c, user_id=user_id, kind="bearer", ip=None, user_agent="pytest",
            ttl=dt.timedelta(hours=1),
        )  # fmt: skip
        return s.token

    return {"Authorization": f"Bearer {_run(url, make)}"}


PORTAL = {"seed": 9, "appeals": 200, "rate_limits_enabled": False}  # browser.portal's city


@pytest.fixture(scope="module")
def answered(portal):
    """Three appeals of one citizen, all answered by their executor: their numbers and the
    citizen's API headers."""
    base, url = portal.base, portal.db
    citizen = token(url, user(url, "citizen", CITIZEN, PASSWORD))
    with psycopg.connect(url) as conn:
        category = conn.execute(
            "SELECT id FROM categories WHERE parent_id IS NOT NULL AND is_active"
            " ORDER BY id LIMIT 1"
        ).fetchone()[0]
    numbers = []
    texts = ("Не працює ліхтар біля під’їзду.", "Яма на тротуарі.", "Зламана лавка.")
    for i, text in enumerate(texts):
        r = httpx.post(f"{base}/api/v1/appeals", headers=citizen, json={
            "category": category, "text": text,
            "location": {"lon": 30.5167 + i * 0.003, "lat": 50.4481},
            "author": {"postal_address": "м. Київ, вул. Велика Житомирська, 8"},
        })  # fmt: skip
        assert r.status_code == 201, r.text
        numbers.append(r.json()["number"])
    with psycopg.connect(url) as conn:
        executors = dict(conn.execute(
            "SELECT number, executor_id FROM appeals WHERE number = ANY(%s)", (numbers,)
        ).fetchall())  # fmt: skip
    for n, number in enumerate(numbers):
        staff = token(url, user(url, "executor", f"ex{n}@citizen.test",
                                executor_id=executors[number]))  # fmt: skip
        assert httpx.post(f"{base}/api/v1/appeals/{number}/take",
                          headers=staff).status_code == 200  # fmt: skip
        r = httpx.post(
            f"{base}/api/v1/appeals/{number}/answer",
            headers=staff,
            json={"text": f"Виконано: бригада виїжджала ({number})."},
        )
        assert r.status_code == 200, r.text
    return numbers, citizen


def status_of(url: str, number: str) -> str:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT status FROM appeals WHERE number = %s", (number,)).fetchone()[0]


def test_a_citizen_confirms_one_result_and_rejects_another(portal, answered, page, screenshot):
    base, url = portal.base, portal.db
    (first, second, third), citizen = answered
    # A fourth, not answered yet, with the result 1551 gives such a one.
    with psycopg.connect(url) as conn:
        category = conn.execute("SELECT category_id FROM appeals WHERE number = %s",
                                (first,)).fetchone()[0]  # fmt: skip
    r = httpx.post(f"{base}/api/v1/appeals", headers=citizen, json={
        "category": category, "text": "Не прибрано сміття біля зупинки.",
        "location": {"lon": 30.5267, "lat": 50.4481},
        "author": {"postal_address": "м. Київ, вул. Велика Житомирська, 8"},
    })  # fmt: skip
    assert r.status_code == 201, r.text
    fourth = r.json()["number"]
    with psycopg.connect(url) as conn:
        conn.execute("UPDATE appeals SET result = 'Очікує прийому в роботу' WHERE number = %s",
                     (fourth,))  # fmt: skip
    page.set_viewport_size({"width": 1000, "height": 900})
    sign_in(page, base, SimpleNamespace(login=CITIZEN, password=PASSWORD))
    page.goto(base + "/cabinet/appeals")
    page.wait_for_selector('#my-appeals[data-state="ready"]', timeout=15_000)

    one = page.locator(f'.my-item[data-number="{first}"]')
    two = page.locator(f'.my-item[data-number="{second}"]')
    expect(one.locator(".my-status-name")).to_have_text("На перевірці")
    expect(one.locator(".my-answer-text")).to_contain_text(f"бригада виїжджала ({first})")
    # Not answered: no "Відповідь виконавця" box, only the result.
    four = page.locator(f'.my-item[data-number="{fourth}"]')
    expect(four.locator(".my-result")).to_have_text("Результат: Очікує прийому в роботу")
    expect(four.locator(".my-answer")).to_be_hidden()
    expect(four.locator(".my-decision")).to_be_hidden()
    screenshot(page, "my-appeals", full_page=True)

    one.get_by_role("button", name="Підтвердити виконання").click()
    expect(one.locator(".my-status-name")).to_have_text("Закрито", timeout=10_000)
    expect(one.locator(".my-decision")).to_be_hidden()

    two.get_by_label("Коментар (необов’язково)").fill("Яму засипали лише наполовину.")
    two.get_by_role("button", name="Не виконано — повернути").click()
    expect(two.locator(".my-status-name")).to_have_text("На доопрацюванні", timeout=10_000)
    screenshot(page, "my-appeals-decided", full_page=True)

    # In English (the browser still prefers Ukrainian): the page and its data's words.
    page.click('a[data-lang="en"]')
    page.wait_for_url(re.compile(r"lang=en"))
    page.wait_for_selector('#my-appeals[data-state="ready"]', timeout=15_000)
    assert page.get_attribute("html", "lang") == "en"
    expect(page.locator("h1")).to_have_text("My appeals")
    expect(page.locator("#my-status")).to_have_text("4 appeals")
    one, two, three = (page.locator(f'.my-item[data-number="{n}"]')
                       for n in (first, second, third))  # fmt: skip
    expect(one.locator(".my-number")).to_have_text(f"No. {first}")
    expect(one.locator(".my-status-name")).to_have_text("Closed")
    expect(two.locator(".my-status-name")).to_have_text("Returned for rework")
    expect(three.locator(".my-status-name")).to_have_text("On check")
    expect(one.locator(".my-dates")).to_have_text(
        re.compile(r"^Filed \d{2}/\d{2}/\d{4}; due \d{2}/\d{2}/\d{4}; closed \d{2}/")
    )
    expect(three.locator(".my-answer h3")).to_have_text("Executor's answer")
    # The categories in English where the catalogue has it (the API's category_en).
    mine = page.evaluate("() => fetch('/api/v1/me/appeals').then(r => r.json())")["items"]
    for a in mine:
        expect(page.locator(f'.my-item[data-number="{a["number"]}"] .my-category')).to_have_text(
            a["category_en"] or a["category"]
        )
    assert any(a["category_en"] for a in mine)
    expect(three.get_by_label("Comment (optional)")).to_be_visible()
    expect(three.get_by_role("button", name="Not done — return it")).to_be_visible()
    screenshot(page, "my-appeals-en", full_page=True)

    # Decided meanwhile in another tab: the API's refusal, in English, under the buttons.
    r = httpx.post(f"{base}/api/v1/appeals/{third}/confirm", headers=citizen, json={})
    assert r.status_code == 200, r.text
    three.get_by_role("button", name="Confirm it is done").click()
    error = three.locator(".my-decision-error")
    expect(error).to_contain_text(f"Appeal No. {third} has status", timeout=10_000)
    message = error.inner_text().replace(third, "")  # the number's letter is Cyrillic
    assert not re.search("[\u0400-\u04ff]", message), message
    screenshot(page, "my-appeals-en-error", full_page=True)

    page.click('a[data-lang="uk"]')
    page.wait_for_selector('#my-appeals[data-state="ready"]', timeout=15_000)
    expect(page.locator("h1")).to_have_text("Мої звернення")
    expect(three.locator(".my-status-name")).to_have_text("Закрито")
    assert status_of(url, first) == "closed"
    assert status_of(url, second) == "rework"
    assert status_of(url, third) == "closed"
