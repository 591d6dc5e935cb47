"""Supporting an appeal for a caller (gis/supporters.py): the contact centre records that the
caller supports an open appeal instead of filing a duplicate, by phone or e-mail, once each;
citizens keep supporting for themselves; none of the caller's data reaches the public.

The small hand-made city of tests/test_lifecycle.py (its City and fixture's settings)."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from test_lifecycle import City, sql

from api import create_app
from gis.settings import Settings
from gis.supporters import normal_phone

CALLER_PHONE = "044 235-61-78"
CALLER_NAME = "Гнатюк Ярина Петрівна"
CALLER_EMAIL = "Yaryna.Hnatiuk@Caller.test"


@pytest.fixture
def city(db_url, smtp_server, tmp_path):
    settings = Settings(database_url=db_url, smtp_host="127.0.0.1", smtp_port=smtp_server.port,
                        rate_limits_enabled=False, demo_mode=False,
                        data_dir=tmp_path)  # fmt: skip
    with TestClient(create_app(settings)) as client:
        yield City(db_url, client, smtp_server)


def test_normal_phone():
    assert normal_phone("044 235-61-78") == normal_phone("+380 (44) 235 61 78") == "+380442356178"
    assert normal_phone("+48 22 123 45 67") == "+48221234567"


def test_an_operator_supports_for_a_caller_once_per_phone_and_email(city):
    number = city.appeal("registered", lon=30.5234, lat=50.4501)
    url = f"/api/v1/appeals/{number}/support"
    op = city.h("operator")

    # Who is the caller? Neither phone nor e-mail: 400, in Ukrainian or English.
    r = city.client.post(url, json={"full_name": CALLER_NAME}, headers=op)
    assert r.status_code == 400 and r.json()["code"] == "supporter_contact_required", r.text
    assert "абонента" in r.json()["detail"]
    r = city.client.post(url, headers=city.h("operator", "en"))
    assert r.status_code == 400 and "caller" in r.json()["detail"]
    for bad in ({"phone": "12"}, {"email": "no-at-sign"}, {"phone": CALLER_PHONE, "channel": "x"},
                {"phone": CALLER_PHONE, "full_name": "Hnatiuk"},
                {"phone": "044\u202e2356178"}, {"phone": ["044"]}):  # fmt: skip
        r = city.client.post(url, json=bad, headers=op)
        assert r.status_code == 400, (bad, r.text)
    assert sql(city.url, "SELECT count(*) FROM appeal_supporters") == [(0,)]

    body = {"phone": CALLER_PHONE, "email": CALLER_EMAIL, "full_name": CALLER_NAME}
    r = city.client.post(url, json=body, headers=op)
    assert r.status_code == 200, r.text
    assert r.json() == {"number": number, "support_count": 1, "supported": True}
    assert sql(city.url, "SELECT phone, email, full_name, recorded_by, channel, user_id"
                         " FROM appeal_supporters") == [  # fmt: skip
        ("+380442356178", CALLER_EMAIL.lower(), CALLER_NAME, city.users["operator"],
         "phone_1551", None)
    ]  # fmt: skip

    # The same caller again — the same phone written otherwise, or the same e-mail: 409.
    for again in ({"phone": "+380 (44) 235 61 78"}, {"email": CALLER_EMAIL.upper()}):
        r = city.client.post(url, json=again, headers=city.h("curator"))
        assert r.status_code == 409 and r.json()["code"] == "appeal_already_supported", r.text
    # Another caller, by e-mail through the government hotline, recorded by a curator.
    r = city.client.post(url, json={"email": "inshyi@caller.test", "channel": "government_hotline"},
                         headers=city.h("curator"))  # fmt: skip
    assert r.status_code == 200 and r.json()["support_count"] == 2, r.text
    # A citizen still supports for themself (no body), once.
    r = city.client.post(url, headers=city.h("other_citizen"))
    assert r.status_code == 200 and r.json()["support_count"] == 3, r.text
    r = city.client.post(url, headers=city.h("other_citizen"))
    assert r.status_code == 409 and r.json()["code"] == "appeal_already_supported"
    # Other staff may not support at all.
    assert city.client.post(url, json=body, headers=city.h("executor")).status_code == 403
    assert sql(city.url, "SELECT support_count FROM appeals WHERE number = %s", (number,)) == [(3,)]
    assert sql(city.url, "SELECT channel, recorded_by IS NULL FROM appeal_supporters"
                         " WHERE user_id IS NOT NULL") == [("site", True)]  # fmt: skip

    # Nothing of the caller is public: the history, the card, the feed; nor in the trail.
    public = [
        city.client.get(f"/api/v1/appeals/{number}/history"),
        city.client.get(f"/api/v1/appeals/{number}"),
        city.client.get("/api/v1/appeals/public", params={"limit": 100}),
    ]
    assert number in public[2].text, public[2].text[:300]
    history = public[0].json()
    assert [e["support_count"] for e in history["events"] if e["action"] == "support"] == [1, 2, 3]
    trail = json.dumps(sql(city.url, "SELECT action, old, new, comment FROM appeal_events"
                                     " WHERE action = 'support'"), ensure_ascii=False)  # fmt: skip
    for text in [r.text for r in public] + [trail]:
        for secret in ("235-61", "2356178", CALLER_NAME, "Гнатюк", CALLER_EMAIL.lower(),
                       "inshyi@caller.test"):  # fmt: skip
            assert secret.lower() not in text.lower(), (secret, text[:300])
    assert all(r.status_code == 200 for r in public), [r.text for r in public]


def test_a_closed_appeal_cannot_be_supported_for_a_caller(city):
    number = city.appeal("closed")
    r = city.client.post(f"/api/v1/appeals/{number}/support", json={"phone": CALLER_PHONE},
                         headers=city.h("operator"))  # fmt: skip
    assert r.status_code == 409, r.text
    r = city.client.post("/api/v1/appeals/000-000000/support", json={"phone": CALLER_PHONE},
                         headers=city.h("operator"))  # fmt: skip
    assert r.status_code == 404
