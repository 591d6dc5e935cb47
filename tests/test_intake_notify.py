"""How the author hears of the appeal, chosen at filing (gis/intake.py, api/routers/appeals.py):
author.notify_channel (email, sms, viber, none; also a top-level field) and author.language,
stored in appeal_authors. A channel must reach them (SMS/Viber a phone, e-mail an address) and
be offered here (a gateway configured): else 400 with a clear message. The language is the
request's (the page's cookie, Accept-Language) unless given; a caller's, registered by an
operator, Ukrainian unless the operator chose. Clients that send neither keep working.

The demo city and helpers of tests/test_intake.py."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from test_intake import AUTHOR, _settings, body, data_dir, demo_url, sql, token  # noqa: F401

from api import create_app


@pytest.fixture(scope="module")
def client(demo_url, data_dir):  # noqa: F811
    with TestClient(create_app(_settings(demo_url, data_dir))) as c:
        yield c


def stored(url: str, number: str) -> tuple:
    return sql(url, "SELECT au.notify_channel, au.language FROM appeal_authors au"
                    " JOIN appeals a ON a.id = au.appeal_id WHERE a.number = %s", (number,))[0]  # fmt: skip


def file(client, url, author: dict, headers=None, **top):
    return client.post("/api/v1/appeals", json=body(url, author=author, **top), headers=headers)


def test_the_channel_must_reach_the_author(client, demo_url):  # noqa: F811
    no_phone = {k: v for k, v in AUTHOR.items() if k != "phone"}
    no_email = {k: v for k, v in AUTHOR.items() if k != "email"}
    before = sql(demo_url, "SELECT count(*) FROM appeals")

    r = file(client, demo_url, {**no_phone, "notify_channel": "sms"})
    assert r.status_code == 400 and r.json()["code"] == "notify_channel_needs_phone", r.text
    assert r.json()["parameter"] == "author.phone" and "SMS" in r.json()["detail"]
    r = file(client, demo_url, {**no_phone, "notify_channel": "viber"},
             headers={"Accept-Language": "en"})  # fmt: skip
    assert r.status_code == 400 and "Viber go to a phone" in r.json()["detail"], r.text
    r = file(client, demo_url, {**no_email, "notify_channel": "email"})
    assert r.status_code == 400 and r.json()["code"] == "notify_channel_needs_email", r.text
    # With a phone, but no SMS gateway configured here: not offered.
    r = file(client, demo_url, {**AUTHOR, "notify_channel": "sms"})
    assert r.status_code == 400 and r.json()["code"] == "notify_channel_not_offered", r.text
    for bad in ("pigeon", 7, "EMAIL"):
        r = file(client, demo_url, {**AUTHOR, "notify_channel": bad})
        assert r.status_code == 400, (bad, r.text)
    r = file(client, demo_url, {**AUTHOR, "language": "fr"})
    assert r.status_code == 400 and r.json()["parameter"] == "author.language", r.text
    assert sql(demo_url, "SELECT count(*) FROM appeals") == before  # nothing stored


def test_the_choice_and_the_language_are_stored(client, demo_url, data_dir):  # noqa: F811
    no_email = {k: v for k, v in AUTHOR.items() if k != "email"}
    # An old client sends neither: e-mail, in the request's language.
    r = file(client, demo_url, dict(AUTHOR), headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert r.status_code == 201, r.text
    assert stored(demo_url, r.json()["number"]) == ("email", "en")
    r = file(client, demo_url, dict(AUTHOR))
    assert stored(demo_url, r.json()["number"]) == ("email", "uk")
    # A phone alone and "none"; the language given wins over the request's.
    r = file(client, demo_url, {**no_email, "notify_channel": "none", "language": "uk"},
             headers={"Accept-Language": "en"})  # fmt: skip
    assert r.status_code == 201, r.text
    assert stored(demo_url, r.json()["number"]) == ("none", "uk")
    # Top-level fields, as the flat form posts them.
    r = file(client, demo_url, dict(AUTHOR), notify_channel="none", language="en")
    assert r.status_code == 201, r.text
    assert stored(demo_url, r.json()["number"]) == ("none", "en")

    # Where an SMS gateway is configured, SMS to the phone is taken.
    with TestClient(create_app(_settings(demo_url, data_dir,
                                         sms_gateway_url="http://127.0.0.1:9/sms"))) as sms:  # fmt: skip
        r = file(sms, demo_url, {**no_email, "notify_channel": "sms"})
        assert r.status_code == 201, r.text
        assert stored(demo_url, r.json()["number"]) == ("sms", "uk")

    # A caller registered by an operator whose page is English: Ukrainian unless chosen.
    _uid, op = token(demo_url, "operator")
    headers = {"Authorization": f"Bearer {op}", "Accept-Language": "en"}
    r = file(client, demo_url, dict(AUTHOR), headers=headers, channel="phone_1551")
    assert r.status_code == 201, r.text
    assert stored(demo_url, r.json()["number"]) == ("email", "uk")
    r = file(client, demo_url, {**AUTHOR, "language": "en", "notify_channel": "none"},
             headers=headers, channel="phone_1551")  # fmt: skip
    assert stored(demo_url, r.json()["number"]) == ("none", "en")
