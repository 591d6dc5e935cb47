"""Open311 GeoReport v2, the write side (issue 15): keys and filing.

- Keys: `hromada open311 key create NAME` prints the key alone; only its SHA-256 is stored;
  `list` and `revoke`; the administrator's API lists, creates (the key once) and revokes.
- POST /open311/v2/requests form-encoded and as JSON, answered in XML (also without a
  suffix) and JSON: a routed appeal by the channel 'open311' naming the application, its
  author kept apart (never in any GET), its token resolving through tokens/{token}; each call
  logged against the key.
- Each refusal in the spec's error format, in both formats, with nothing stored: a missing key
  400, an unknown or revoked one 403, a missing or unknown service_code, bad or half
  coordinates, a point outside the city, a description over 4,000 characters, no author's
  address, no name, no place, an unknown jurisdiction 404; the rate limit per key (429);
  Idempotency-Key retries.
- The round trip against a real `hromada serve` process with the third-party client
  `georeport` (PyPI, 0.3.1; it has no POST, so the request is posted form-encoded with
  `requests`, the library it uses): key by the CLI, services, the POST in XML and JSON, the
  routed appeal in the public feed and the OGC API, the executor's answer through the
  lifecycle API, the auto-close, then requests/{id} closed with status_notes and
  servicerequestupdates listing each step — read the way FixMyStreet's client reads the XML.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import os
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import quote

import httpx
import psycopg
import pytest
from conftest import demo_city
from fastapi.testclient import TestClient
from test_roles import as_demo, auth, new_user, token_for

from api import create_app
from gis import open311_clients
from gis.db import libpq_url
from gis.embedded import free_port
from gis.settings import Settings
from importers.demo import accounts as demo_accounts

SEED = 17
POINT = {"lat": "50.4501", "long": "30.5234"}  # Майдан Незалежності
HROMADA = [sys.executable, "-c", "from cli.main import main; raise SystemExit(main())"]
ROOT = Path(__file__).resolve().parent.parent
NUMBER = re.compile(r"^[А-ЯІЇЄҐ]-\d+$")
DEADLINE = re.compile(r"^Строк розгляду — до \d\d\.\d\d\.\d{4}$")
STORED = ("appeals", "appeal_authors", "appeal_events", "open311_tokens", "idempotency_keys")


@pytest.fixture(scope="module")
def demo_url(server_url, template_url, shared_data):
    with demo_city(server_url, template_url, shared_data, "o311post", seed=SEED, appeals=150,
                   now=None) as url:  # fmt: skip
        demo_accounts.create(url, SEED, demo_mode=True)
        yield url


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("o311post")


@pytest.fixture(scope="module")
def client(demo_url, data_dir):
    settings = Settings(database_url=demo_url, data_dir=data_dir, rate_limits_enabled=False,
                        demo_mode=True)  # fmt: skip
    with TestClient(create_app(settings)) as c:
        yield c


def sql(url: str, query: str, params=None) -> list[tuple]:
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(query, params)
        return cur.fetchall() if cur.description else []


def counts(url: str) -> dict[str, int]:
    return {t: sql(url, f"SELECT count(*) FROM {t}")[0][0] for t in STORED}


def run(url: str, fn, *args, **kwargs):
    async def go():
        async with await psycopg.AsyncConnection.connect(libpq_url(url), autocommit=True) as c:
            return await fn(c, *args, **kwargs)

    return asyncio.run(go())


def new_key(url: str, name: str) -> str:
    return run(url, open311_clients.create_client, name)["key"]


@pytest.fixture(scope="module")
def key(demo_url) -> str:
    return new_key(demo_url, "Тестовий застосунок")


def service_code(url: str) -> str:
    """A sub-kind with the ordinary 15-day term: an Open311 service."""
    return str(sql(url, "SELECT id FROM categories WHERE parent_id IS NOT NULL AND is_active"
                        " AND NOT needs_study AND deadline_days = 15 ORDER BY id LIMIT 1")[0][0])  # fmt: skip


def form(url: str, key: str | None, **over) -> dict:
    out = {
        "api_key": key, "service_code": service_code(url), **POINT,
        "description": "Біля під’їзду третій день не вивозять сміття, контейнери переповнені.",
        "first_name": "Оксана", "last_name": "Приходько", "email": "oksana@example.com",
        "phone": "+380 67 123 45 67",
        "attribute[author_address]": "м. Київ, вул. Січових Стрільців, 77, кв. 13",
        "attribute[consent_to_publish]": "true", "account_id": "fms-42", "device_id": "dev-1",
        "media_url": "https://fixmystreet.example/photo/1.jpeg",
    }  # fmt: skip
    out.update(over)
    return {k: v for k, v in out.items() if v is not None}


def xml_request(content: bytes) -> dict:
    root = ET.fromstring(content)
    assert root.tag == "service_requests", content
    (request,) = root.findall("request")
    return {child.tag: child.text for child in request}


def xml_errors(content: bytes) -> list[tuple[str, str]]:
    root = ET.fromstring(content)
    assert root.tag == "errors", content
    return [(e.findtext("code"), e.findtext("description")) for e in root.findall("error")]


# --- keys ---------------------------------------------------------------------------------------


def hromada(url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HROMADA_DATABASE_URL": url}
    return subprocess.run([*HROMADA, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)  # fmt: skip


def test_the_cli_creates_lists_and_revokes_keys(demo_url):
    made = hromada(demo_url, "open311", "key", "create", "CLI застосунок")
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()
    assert made.stdout == key + "\n" and re.fullmatch(r"[A-Za-z0-9_-]{43}", key)
    assert sql(demo_url, "SELECT key_sha256 FROM open311_clients WHERE name = 'CLI застосунок'"
               ) == [(hashlib.sha256(key.encode()).hexdigest(),)]  # fmt: skip
    again = hromada(demo_url, "open311", "key", "create", "CLI застосунок")
    assert again.returncode == 1 and "уже має ключ" in again.stderr and again.stdout == ""
    listed = [json.loads(line) for line in
              hromada(demo_url, "open311", "key", "list").stdout.splitlines()]  # fmt: skip
    mine = next(c for c in listed if c["name"] == "CLI застосунок")
    assert mine["revoked"] is False and key not in json.dumps(listed)
    assert hromada(demo_url, "open311", "key", "revoke", "CLI застосунок").returncode == 0
    listed = [json.loads(line) for line in
              hromada(demo_url, "open311", "key", "list").stdout.splitlines()]  # fmt: skip
    assert next(c for c in listed if c["name"] == "CLI застосунок")["revoked"] is True
    gone = hromada(demo_url, "open311", "key", "revoke", "Немає такого")
    assert gone.returncode == 1 and "не знайдено" in gone.stderr


def test_the_administrators_api_lists_creates_and_revokes(client, demo_url):
    admin = as_demo(demo_url, "admin@demo.hromada")
    r = client.post("/api/v1/admin/open311/keys", headers=admin, json={"name": "  API   клієнт "})
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["name"] == "API клієнт" and made["revoked"] is False and made["created_by"]
    r = client.post("/api/v1/admin/open311/keys", headers=admin, json={"name": "API клієнт"})
    assert r.status_code == 409 and r.json()["code"] == "open311_client_exists"
    r = client.post("/api/v1/admin/open311/keys", headers=admin, json={"name": " "})
    assert r.status_code == 400 and r.json()["code"] == "open311_client_name_required"
    listed = client.get("/api/v1/admin/open311/keys", headers=admin).json()
    assert made["key"] not in json.dumps(listed)
    assert any(c["id"] == made["id"] for c in listed["items"])
    # The key works, is logged against its application, then is revoked: 403.
    r = client.post("/open311/v2/requests.json", data={"api_key": made["key"]})
    assert r.status_code == 400  # no service_code: the key itself was accepted
    calls = client.get(f"/api/v1/admin/open311/keys/{made['id']}/calls", headers=admin).json()
    assert [(c["method"], c["path"], c["status"]) for c in calls["items"]] == [
        ("POST", "/open311/v2/requests.json", 400)]  # fmt: skip
    r = client.delete(f"/api/v1/admin/open311/keys/{made['id']}", headers=admin)
    assert r.status_code == 200 and r.json()["revoked"] is True
    r = client.post("/open311/v2/requests.json", data={"api_key": made["key"]})
    assert r.status_code == 403
    r = client.delete("/api/v1/admin/open311/keys/999999", headers=admin)
    assert r.status_code == 404
    # Audited, never the key.
    trail = sql(demo_url, "SELECT action, new FROM feature_events WHERE layer = 'open311_clients'"
                          " AND feature_id = %s ORDER BY id", (str(made["id"]),))  # fmt: skip
    assert [a for a, _ in trail] == ["created", "revoked"]
    assert made["key"] not in json.dumps([n for _, n in trail])


# --- filing ---------------------------------------------------------------------------------------


def test_a_form_post_in_xml_files_a_routed_appeal_by_the_open311_channel(client, demo_url, key):
    before = counts(demo_url)
    r = client.post("/open311/v2/requests.xml", data=form(demo_url, key))
    assert r.status_code == 201, r.text
    assert r.headers["content-type"].startswith("text/xml")
    assert r.content.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    got = xml_request(r.content)
    assert set(got) == {"service_request_id", "token", "service_notice", "account_id"}
    assert NUMBER.match(got["service_request_id"]) and got["service_request_id"][0] == "П"
    assert DEADLINE.match(got["service_notice"]) and got["account_id"] == "fms-42"
    assert r.headers["location"] == f"/open311/v2/requests/{quote(got['service_request_id'])}.xml"
    after = counts(demo_url)
    assert {t: after[t] - before[t] for t in STORED} == {
        "appeals": 1, "appeal_authors": 1, "appeal_events": 1, "open311_tokens": 1,
        "idempotency_keys": 0}  # fmt: skip
    ((channel, client_name, executor, district, status, public, text),) = sql(
        demo_url, "SELECT a.channel, c.name, a.executor_id, a.district_id, a.status, a.is_public,"
                  " a.text FROM appeals a JOIN open311_clients c ON c.id = a.open311_client_id"
                  " WHERE a.number = %s", (got["service_request_id"],))  # fmt: skip
    assert (channel, client_name, status, public) == ("open311", "Тестовий застосунок",
                                                      "registered", True)  # fmt: skip
    assert executor is not None and district is not None and "сміття" in text
    assert open311_clients.channel_label(channel, client_name) == "Open311: Тестовий застосунок"
    # Staff see the channel by the application's name on the appeal's card.
    executor = auth(token_for(demo_url, new_user(demo_url, "executor", executor_id=executor)))
    card = client.get(f"/api/v1/queue/{got['service_request_id']}", headers=executor).json()
    assert card["channel"] == "open311"
    assert card["channel_name"] == card["channel_name_en"] == "Open311: Тестовий застосунок"
    ((name, email, phone, postal, language),) = sql(
        demo_url, "SELECT full_name, email, phone, postal_address, language FROM appeal_authors"
                  " WHERE appeal_id = (SELECT id FROM appeals WHERE number = %s)",
        (got["service_request_id"],))  # fmt: skip
    assert (name, email, phone, postal, language) == (
        "Приходько Оксана", "oksana@example.com", "+380 67 123 45 67",
        "м. Київ, вул. Січових Стрільців, 77, кв. 13", "uk")  # fmt: skip
    ((actor,),) = sql(demo_url, "SELECT actor FROM appeal_events WHERE appeal_id ="
                                " (SELECT id FROM appeals WHERE number = %s)",
                      (got["service_request_id"],))  # fmt: skip
    assert actor == "Open311: Тестовий застосунок"
    # The token resolves to the request, in both formats.
    t = client.get(f"/open311/v2/tokens/{got['token']}.xml")
    assert t.status_code == 200 and xml_request(t.content) == {
        "service_request_id": got["service_request_id"], "token": got["token"]}  # fmt: skip
    t = client.get(f"/open311/v2/tokens/{got['token']}.json")
    assert t.json() == [{"service_request_id": got["service_request_id"], "token": got["token"]}]
    assert client.get("/open311/v2/tokens/nope.json").status_code == 404
    # The call is logged against the key, which was used just now.
    ((used, calls),) = sql(demo_url, "SELECT c.last_used_at > now() - interval '1 minute',"
                                     " (SELECT array_agg(k.status ORDER BY k.id) FROM open311_calls k"
                                     "   WHERE k.client_id = c.id)"
                                     " FROM open311_clients c WHERE name = 'Тестовий застосунок'")  # fmt: skip
    assert used and calls[-1] == 201
    # No personal data in the request's public view.
    shown = client.get(f"/open311/v2/requests/{got['service_request_id']}.json").text
    for private in ("Приходько", "oksana@example.com", "123 45 67", "Січових", "fms-42"):
        assert private not in shown


def test_a_json_post_in_json_and_a_form_without_suffix_in_xml(client, demo_url, key):
    payload = form(demo_url, key, lat=None, long=None, address_string="вулиця Хрещатик, 22")
    attributes = {"author_address": payload.pop("attribute[author_address]"),
                  "consent_to_publish": False}  # fmt: skip
    payload.pop("attribute[consent_to_publish]")
    r = client.post("/open311/v2/requests.json", json={**payload, "attribute": attributes})
    assert r.status_code == 201, r.text
    assert r.headers["content-type"].startswith("application/json")
    ((got),) = r.json()
    assert NUMBER.match(got["service_request_id"]) and DEADLINE.match(got["service_notice"])
    ((address, lon, public),) = sql(demo_url, "SELECT address, ST_X(geom), is_public FROM appeals"
                                              " WHERE number = %s", (got["service_request_id"],))  # fmt: skip
    assert "Хрещатик" in address and 30.4 < lon < 30.6 and public is False
    shown = client.get(f"/open311/v2/requests/{got['service_request_id']}.json").json()[0]
    assert shown["description"] is None  # no consent: the text is not published
    # address_id: the street's register code, the house in address_string.
    ((code,),) = sql(demo_url, "SELECT code FROM streets WHERE name = 'Хрещатик' LIMIT 1")
    r = client.post("/open311/v2/requests", data=form(demo_url, key, lat=None, long=None,
                                                      address_id=code, address_string="22"))  # fmt: skip
    assert r.status_code == 201, r.text
    assert r.headers["content-type"].startswith("text/xml")
    assert NUMBER.match(xml_request(r.content)["service_request_id"])


def _kind_with_subkinds(url: str) -> str:
    return str(
        sql(url, "SELECT parent_id FROM categories WHERE parent_id IS NOT NULL LIMIT 1")[0][0]
    )


REVOKED = "revoked"
REFUSALS = [
    # (id, the form's changes, status, a word of the description)
    ("no key", {"api_key": None}, 400, "api_key"),
    ("unknown key", {"api_key": "x" * 43}, 403, "api_key"),
    ("revoked key", {"api_key": REVOKED}, 403, "відкликаний"),
    ("no service_code", {"service_code": None}, 400, "service_code"),
    ("unknown service_code", {"service_code": "999999"}, 400, "service_code"),
    ("a kind, not a service", {"service_code": "kind"}, 400, "service_code"),
    ("bad lat", {"lat": "пів-на-п'яту"}, 400, "lat"),
    ("lat without long", {"long": None}, 400, "long"),
    ("outside the city", {"lat": "49.84", "long": "24.03"}, 400, "поза межами громади"),
    ("too long", {"description": "я" * 4001}, 400, "4000"),
    ("no description", {"description": None}, 400, "Опишіть проблему"),
    ("no author's address", {"attribute[author_address]": None}, 400, "author_address"),
    ("no name", {"first_name": None, "last_name": None}, 400, "last_name"),
    ("a name in Latin", {"first_name": "Oksana", "last_name": "Prykhodko"}, 400, "кирилицею"),
    ("no contact", {"email": None, "phone": None}, 400, "зв’язатися"),
    ("no place", {"lat": None, "long": None}, 400, "address_string"),
    ("an unknown street", {"lat": None, "long": None,
                           "address_string": "вулиця Неіснуюча, 5"}, 400, "реєстрі вулиць"),
    ("unknown jurisdiction", {"jurisdiction_id": "UA00000000000000000"}, 404, "UA00000000000000000"),
]  # fmt: skip


@pytest.mark.parametrize("fmt", ["xml", "json"])
@pytest.mark.parametrize(("changes", "status", "word"), [r[1:] for r in REFUSALS],
                         ids=[r[0] for r in REFUSALS])  # fmt: skip
def test_each_refusal_in_the_spec_format_with_nothing_stored(client, demo_url, key, fmt, changes,
                                                             status, word):  # fmt: skip
    changes = dict(changes)
    if changes.get("api_key") == REVOKED:
        changes["api_key"] = new_key(demo_url, f"Відкликаний {fmt}")
        run(demo_url, open311_clients.revoke, name=f"Відкликаний {fmt}")
    if changes.get("service_code") == "kind":
        changes["service_code"] = _kind_with_subkinds(demo_url)
    before = counts(demo_url)
    r = client.post(f"/open311/v2/requests.{fmt}", data=form(demo_url, key, **changes))
    assert r.status_code == status, r.text
    if fmt == "json":
        assert r.headers["content-type"].startswith("application/json")
        ((error),) = r.json()
        code, description = error["code"], error["description"]
        assert set(error) == {"code", "description"}
    else:
        ((code, description),) = xml_errors(r.content)
        code = int(code)
    assert code == status and word in description, description
    assert counts(demo_url) == before


def test_a_refusal_in_english_by_accept_language(client, demo_url, key):
    r = client.post("/open311/v2/requests.xml", data=form(demo_url, key, service_code=None),
                    headers={"Accept-Language": "en"})  # fmt: skip
    ((code, description),) = xml_errors(r.content)
    assert code == "400" and description.startswith("Give the service (service_code)")


def test_an_idempotency_key_makes_a_retry_safe(client, demo_url, key):
    body = form(demo_url, key, description="Не працює вуличне освітлення вздовж усього кварталу.")
    headers = {"Idempotency-Key": "fms-report-1001"}
    first = client.post("/open311/v2/requests.json", data=body, headers=headers)
    before = counts(demo_url)
    again = client.post("/open311/v2/requests.json", data=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    assert counts(demo_url) == before
    other = client.post("/open311/v2/requests.json", headers=headers,
                        data={**body, "description": "Зовсім інший текст звернення про освітлення."})  # fmt: skip
    assert other.status_code == 409 and other.json()[0]["code"] == 409
    assert counts(demo_url) == before
    # Another application's same key is another request.
    theirs = client.post("/open311/v2/requests.json", headers=headers,
                         data={**body, "api_key": new_key(demo_url, "Інший застосунок")})  # fmt: skip
    assert theirs.status_code == 201
    assert theirs.json()[0]["service_request_id"] != first.json()[0]["service_request_id"]


def test_requests_are_rate_limited_per_key(demo_url, data_dir):
    settings = Settings(database_url=demo_url, data_dir=data_dir, rate_limit_open311="2/minute")
    limited, other = new_key(demo_url, "Частий застосунок"), new_key(demo_url, "Рідкий застосунок")
    with TestClient(create_app(settings)) as c:
        for _ in range(2):
            assert (
                c.post("/open311/v2/requests.xml", data=form(demo_url, limited)).status_code == 201
            )
        before = counts(demo_url)
        r = c.post("/open311/v2/requests.xml", data=form(demo_url, limited))
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
        ((code, _),) = xml_errors(r.content)
        assert code == "429" and counts(demo_url) == before
        assert c.post("/open311/v2/requests.xml", data=form(demo_url, other)).status_code == 201
        # Wrong keys count per client address.
        wrong = form(demo_url, "y" * 43)
        assert [c.post("/open311/v2/requests.json", data=wrong).status_code
                for _ in range(3)] == [403, 403, 429]  # fmt: skip


# --- the round trip -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(demo_url, data_dir):
    """A real `hromada serve` process on the module's city."""
    port = free_port()
    env = {**os.environ, "HROMADA_DATABASE_URL": demo_url, "HROMADA_DATA_DIR": str(data_dir),
           "HROMADA_RATE_LIMITS_ENABLED": "false"}  # fmt: skip
    proc = subprocess.Popen([*HROMADA, "serve", "--host", "127.0.0.1", "--port", str(port)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "hromada serve did not answer"
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(30)


def _fms_updates(content: bytes) -> list[dict]:
    """servicerequestupdates.xml as FixMyStreet's client reads it: each request_update's
    fields by name."""
    root = ET.fromstring(content)
    assert root.tag == "service_request_updates"
    return [{c.tag: c.text for c in u} for u in root.findall("request_update")]


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_the_round_trip_with_a_third_party_client(served, demo_url, fmt):
    georeport = pytest.importorskip("georeport")
    import requests

    made = hromada(demo_url, "open311", "key", "create", f"Круговий {fmt}")
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()
    client = georeport.GeoReport(f"{served}/open311/v2", api_key=key, output_format=fmt)
    # FixMyStreet's order: the services, a service's definition, then the POST.
    services = client.get_service_list()
    code = service_code(demo_url)
    service = next(s for s in services if s["service_code"] == code)
    assert service["metadata"] in (True, "true") and service["type"] == "realtime"
    definition = client.get_service_definition(code)
    attributes = definition["attributes"]
    if fmt == "xml":
        attributes = attributes["attribute"]
        attributes = attributes if isinstance(attributes, list) else [attributes]
    yes, no = (True, False) if fmt == "json" else ("true", "false")
    assert [(a["code"], a["required"]) for a in attributes] == [
        ("author_address", yes), ("consent_to_publish", no)]  # fmt: skip
    posted = requests.post(f"{client.root_address}/requests.{fmt}",
                           data=form(demo_url, key, description=f"Яма на дорозі ({fmt}), "
                                     "глибока, вже пошкоджено кілька автомобілів."),
                           timeout=30)  # fmt: skip
    assert posted.status_code == 201, posted.text
    got = posted.json()[0] if fmt == "json" else xml_request(posted.content)
    number = got["service_request_id"]

    # Routed, on the map: the public feed and the OGC API show it.
    mine = client.get_service_request(number)
    assert mine["status"] == "open" and mine["detailed_status"] == "registered"
    assert mine["agency_responsible"] and DEADLINE.match(mine["service_notice"])
    feed = httpx.get(f"{served}/api/v1/appeals/public", params={"limit": 50}, timeout=30).json()
    assert number in [i["number"] for i in feed["items"]]
    ((appeal_id, executor_id),) = sql(demo_url, "SELECT id, executor_id FROM appeals"
                                                " WHERE number = %s", (number,))  # fmt: skip
    feature = httpx.get(f"{served}/ogc/collections/appeals/items/{appeal_id}", timeout=30)
    assert feature.status_code == 200, feature.text
    assert feature.json()["properties"]["number"] == number

    # The executor takes it and answers through the lifecycle API; nobody confirms: it closes.
    executor = auth(token_for(demo_url, new_user(demo_url, "executor", executor_id=executor_id)))
    answer = f"Яму залатано ({fmt}): асфальт покладено, ділянку огороджено до висихання."
    assert httpx.post(f"{served}/api/v1/appeals/{number}/take", headers=executor,
                      timeout=30).status_code == 200  # fmt: skip
    r = httpx.post(f"{served}/api/v1/appeals/{number}/answer", headers=executor, timeout=30,
                   json={"text": answer, "kind": "done"})  # fmt: skip
    assert r.status_code == 200, r.text
    on_check = client.get_service_request(number)
    assert on_check["status"] == "open" and on_check["status_notes"] == answer
    closing = hromada(demo_url, "jobs", "autoclose", "--days", "0")
    assert closing.returncode == 0 and number in closing.stdout, closing.stdout + closing.stderr

    closed = client.get_service_request(number)
    assert closed["status"] == "closed" and closed["detailed_status"] == "closed"
    assert closed["status_notes"] == answer
    assert client.get_service_requests(service_request_id=number, status="closed")
    # The token still resolves.
    t = httpx.get(f"{served}/open311/v2/tokens/{got['token']}.{fmt}", timeout=30)
    assert number in t.text
    # servicerequestupdates: each step, in order, the last one closed.
    since = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat(timespec="seconds")
    r = httpx.get(f"{served}/open311/v2/servicerequestupdates.{fmt}",
                  params={"start_date": since}, timeout=30)  # fmt: skip
    assert r.status_code == 200, r.text
    updates = r.json() if fmt == "json" else _fms_updates(r.content)
    steps = [u for u in updates if u["service_request_id"] == number]
    steps.sort(key=lambda u: int(u["update_id"]))
    assert len(steps) >= 4, steps  # registered, taken, answered, closed
    assert [u["status"] for u in steps][-1] == "closed"
    assert {u["status"] for u in steps[:-1]} == {"open"}
    assert answer in [u["description"] for u in steps]
    for u in steps:
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$", u["updated_datetime"])
    everything = r.text + json.dumps(closed, ensure_ascii=False)
    for private in ("Приходько", "oksana@example.com", "123 45 67", "Січових"):
        assert private not in everything
