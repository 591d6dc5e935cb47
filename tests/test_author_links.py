"""The author's signed links (gis/author_links.py) and what their holder may do: see the appeal's
page, confirm or reject the answer as its author, unsubscribe (api/routers/lifecycle.py
author-confirm / author-reject / author-unsubscribe).

The small hand-made city of tests/test_lifecycle.py (its City and fixture's settings)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from fastapi.testclient import TestClient
from test_lifecycle import City, _run, sql

from api import create_app
from gis import author_links
from gis.lifecycle import R_CONFIRMED, R_DONE_AWAITING, R_REWORK_AUTHOR
from gis.settings import Settings

BASE = "https://hromada.example.test"


@pytest.fixture
def city(db_url, smtp_server, tmp_path):
    settings = Settings(database_url=db_url, smtp_host="127.0.0.1", smtp_port=smtp_server.port,
                        rate_limits_enabled=False, demo_mode=False, public_base_url=BASE,
                        data_dir=tmp_path)  # fmt: skip
    with TestClient(create_app(settings)) as client:
        city = City(db_url, client, smtp_server)
        city.settings = settings
        yield city


def _links(city, number: str) -> dict[str, str]:
    appeal_id = sql(city.url, "SELECT id FROM appeals WHERE number = %s", (number,))[0][0]
    return _run(city.url, lambda c: author_links.author_links(c, city.settings, appeal_id, number))


def _token(link: str) -> str:
    return parse_qs(urlsplit(link).query)["t"][0]


def test_links_are_signed_with_the_databases_key(city):
    number = city.appeal("registered")
    appeal_id = sql(city.url, "SELECT id FROM appeals WHERE number = %s", (number,))[0][0]
    links = _links(city, number)
    assert set(links) == {"card", "confirm", "reject", "unsubscribe"}
    path = f"/a/{quote(number, safe='')}"
    token = _token(links["card"])
    assert links["card"] == f"{BASE}{path}?t={token}"
    assert links["confirm"] == f"{links['card']}#confirm"
    assert links["reject"] == f"{links['card']}#reject"
    assert links["unsubscribe"] == f"{BASE}{path}/unsubscribe?t={token}"
    # HMAC-SHA256 over "author:<id>" with service_keys 'author', base64url, 32 characters.
    key = bytes(sql(city.url, "SELECT key FROM service_keys WHERE name = 'author'")[0][0])
    digest = hmac.new(key, f"author:{appeal_id}".encode(), hashlib.sha256).digest()
    assert token == base64.urlsafe_b64encode(digest).decode()[:32]

    # Another process (a second app instance, a worker) reads the same key: the same token.
    author_links.forget()
    assert _links(city, number) == links
    assert _run(city.url, lambda c: author_links.verify(c, number, token)) == appeal_id

    # Tampered, truncated, another appeal's, an unknown number: not valid.
    other = city.appeal("registered")
    other_token = _token(_links(city, other)["card"])
    tampered = ("A" if token[0] != "A" else "B") + token[1:]
    for number_, bad in ((number, tampered), (number, token[:-1]), (number, other_token),
                         (number, ""), (number, "я" * 32), ("T-nope", token)):  # fmt: skip
        found = _run(city.url, lambda c, n=number_, t=bad: author_links.verify(c, n, t))
        assert found is None, bad


def test_two_app_instances_agree(city, tmp_path):
    """A link made by one instance (a worker's mail) opens in another (the web server)."""
    number = city.appeal("registered")
    token = _token(_links(city, number)["card"])
    author_links.forget()
    other = Settings(database_url=city.url, rate_limits_enabled=False, demo_mode=False,
                     public_base_url=BASE, data_dir=tmp_path / "other")  # fmt: skip
    with TestClient(create_app(other)) as client:
        r = client.get(f"/a/{quote(number)}?t={token}")
        assert r.status_code == 200, r.text


def _post(city, number, action, body, lang=None, **kw):
    headers = {"Accept-Language": lang} if lang else {}
    return city.client.post(f"/api/v1/appeals/{quote(number)}/author-{action}", json=body,
                            headers=headers, **kw)  # fmt: skip


def test_the_link_holder_confirms_rejects_and_unsubscribes_as_the_author(city):
    on_check = city.appeal("on_check", result=R_DONE_AWAITING)
    other = city.appeal("on_check", result=R_DONE_AWAITING)
    registered = city.appeal("registered")
    token = _token(_links(city, on_check)["card"])
    other_token = _token(_links(city, other)["card"])

    # No token: 400; a tampered one, another appeal's: 403 in Ukrainian or English.
    r = _post(city, on_check, "confirm", {})
    assert r.status_code == 400 and r.json()["parameter"] == "token", r.text
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    for bad in (tampered, other_token, token.lower(), 7):
        r = _post(city, on_check, "confirm", {"token": bad})
        assert r.status_code == 403 and r.json()["code"] == "author_link_invalid", (bad, r.text)
        assert "Посилання недійсне" in r.json()["detail"]
    r = _post(city, on_check, "reject", {"token": other_token, "comment": "x"}, lang="en")
    assert r.status_code == 403 and "not valid" in r.json()["detail"], r.text
    assert city.row(on_check)[0] == "on_check"

    # A rejection says what was not done.
    r = _post(city, on_check, "reject", {"token": token})
    assert r.status_code == 400 and r.json()["code"] == "author_comment_required", r.text
    r = _post(city, on_check, "reject", {"token": token, "comment": "Яма на місці"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "rework" and city.row(on_check)[:2] == ("rework", R_REWORK_AUTHOR)
    # The trail: the author («заявник»), no user; the comment kept for staff only.
    action, _old, _new, comment, user = city.events(on_check)[-1]
    assert (action, comment, user) == ("reject", "Яма на місці", None)
    assert sql(city.url, "SELECT actor, internal FROM appeal_events WHERE comment = %s",
               ("Яма на місці",)) == [("заявник", True)]  # fmt: skip

    # Not on check any more (and the registered one never was): 409 as the lifecycle answers.
    for number in (on_check, registered):
        t = _token(_links(city, number)["card"])
        r = _post(city, number, "confirm", {"token": t})
        assert r.status_code == 409 and r.json()["code"] == "appeal_transition_refused", r.text

    # The other appeal's own token confirms it: closed, «Виконано / Підтверджено заявником».
    r = _post(city, other, "confirm", {"token": other_token})
    assert r.status_code == 200 and r.json()["status"] == "closed", r.text
    assert city.row(other)[:2] == ("closed", R_CONFIRMED)

    # Unsubscribe: once set, kept (a second click changes nothing).
    r = _post(city, on_check, "unsubscribe", {"token": other_token})
    assert r.status_code == 403
    r = _post(city, on_check, "unsubscribe", {"token": token})
    assert r.status_code == 200 and r.json()["unsubscribed"] is True, r.text
    first = sql(city.url, "SELECT unsubscribed_at FROM appeal_authors au JOIN appeals a"
                          " ON a.id = au.appeal_id WHERE a.number = %s", (on_check,))[0][0]  # fmt: skip
    assert first is not None
    assert _post(city, on_check, "unsubscribe", {"token": token}).status_code == 200
    assert sql(city.url, "SELECT count(*) FROM appeal_authors WHERE unsubscribed_at = %s",
               (first,)) == [(1,)]  # fmt: skip


def test_the_pages_check_the_token_and_show_no_personal_data(city):
    number = city.appeal("on_check", result=R_DONE_AWAITING)
    links = _links(city, number)
    token = _token(links["card"])
    path = urlsplit(links["card"]).path
    r = city.client.get(f"{path}?t={token}")
    assert r.status_code == 200 and "Підтверджую виконання" in r.text, r.text[:300]
    assert "Петренко" not in r.text and "author@lifecycle.test" not in r.text
    assert token in r.text  # in the page's config, for its POSTs
    for bad in ("", token[:-1] + "x"):
        r = city.client.get(f"{path}?t={bad}")
        assert r.status_code == 403 and "Посилання недійсне" in r.text
        assert bad == "" or bad not in r.text
    r = city.client.get(f"/a/{quote('Т-нема')}?t={token}")
    assert r.status_code == 404
    r = city.client.get(f"{path}/unsubscribe?t={token}&lang=en")
    assert r.status_code == 200 and "Unsubscribe" in r.text


def test_the_links_are_rate_limited(city, tmp_path):
    number = city.appeal("registered")
    limited = Settings(database_url=city.url, demo_mode=False, rate_limit_author_link="2/minute",
                       data_dir=tmp_path / "limited")  # fmt: skip
    with TestClient(create_app(limited)) as client:
        url = f"/api/v1/appeals/{quote(number)}/author-unsubscribe"
        codes = [client.post(url, json={"token": "x" * 32}).status_code for _ in range(3)]
        assert codes == [403, 403, 429]


def test_a_session_cookie_without_its_csrf_token_is_not_in_the_way(city):
    """The link opened in a browser where someone is signed in (a cookie session whose tab
    has no CSRF token): the token of the body decides, the session is not read; other unsafe
    routes still refuse such a cookie."""
    from gis import accounts

    number = city.appeal("on_check", result=R_DONE_AWAITING)
    token = _token(_links(city, number)["card"])
    import datetime as dt

    async def session(c):
        made = await accounts.create_session(c, user_id=city.users["other_citizen"], kind="cookie",
                                             ip=None, user_agent="pytest",
                                             ttl=dt.timedelta(hours=1))  # fmt: skip
        return made.token

    cookie = {"Cookie": f"{city.settings.session_cookie_name}={_run(city.url, session)}"}
    r = city.client.post(f"/api/v1/appeals/{quote(number)}/cancel", json={}, headers=cookie)
    assert r.status_code == 403 and r.json()["code"] == "csrf_failed", r.text
    r = city.client.post(f"/api/v1/appeals/{quote(number)}/author-confirm",
                         json={"token": token}, headers=cookie)  # fmt: skip
    assert r.status_code == 200 and r.json()["status"] == "closed", r.text
    assert city.row(number)[:2] == ("closed", R_CONFIRMED)
