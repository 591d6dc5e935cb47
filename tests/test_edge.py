"""The edge of the service (issue 11): no input breaks it.

Table-driven: every route that takes a string (in its path, its query or its body) is sent the
characters no field may hold, as anonymous and as an administrator, and must answer a 400 that
names the field — never a 5xx. Integers past PostgreSQL's `integer`, too many photos, texts
of control characters, and an unexpected failure (a JSON 500 with a request id, the
connection kept) are tried too.
"""

from __future__ import annotations

import datetime as dt
import http.client
import io
import json
import logging
import re
import xml.etree.ElementTree as ET
from urllib.parse import quote, urlsplit

import psycopg
import pytest
from conftest import demo_city
from fastapi.testclient import TestClient
from live import serve
from PIL import Image

from api import create_app
from api.guard import check_body, check_query
from api.policy import iter_api_routes
from gis.errors import InvalidParameter
from gis.settings import Settings
from gis.values import bad_character, check_tree
from importers.demo import accounts as demo_accounts

NOW = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
SEED = 11
# What no field may hold, and the character each is reported as.
BAD = {
    "\x00": "U+0000",  # NUL: PostgreSQL cannot store it in text
    "\x07": "U+0007",  # BEL
    "\x1b": "U+001B",  # ESC
    "\u202e": "U+202E",  # right-to-left override: a published text would read otherwise
    "\x85": "U+0085",  # a C1 control
}


@pytest.fixture(scope="module")
def demo_url(server_url, template_url, shared_data):
    with demo_city(
        server_url, template_url, shared_data, "edge", seed=SEED, appeals=300, now=NOW
    ) as url:
        demo_accounts.create(url, SEED, demo_mode=True)
        yield url


@pytest.fixture(scope="module")
def app(demo_url):
    return create_app(Settings(database_url=demo_url, demo_mode=True, rate_limits_enabled=False))


@pytest.fixture(scope="module")
def client(app):
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def _login(client, demo_url, role: str) -> dict:
    with psycopg.connect(demo_url) as conn:
        login = conn.execute(
            "SELECT email FROM users WHERE is_demo AND role = %s ORDER BY id LIMIT 1", (role,)
        ).fetchone()[0]
    password = demo_accounts.password_for(SEED, login)
    r = client.post("/api/v1/auth/login", json={"email": login, "password": password})
    assert r.status_code in (200, 201), r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


@pytest.fixture(scope="module")
def admin(client, demo_url):
    return _login(client, demo_url, "admin")


@pytest.fixture(scope="module")
def appeal_number(demo_url):
    with psycopg.connect(demo_url) as conn:
        return conn.execute("SELECT number FROM appeals ORDER BY id LIMIT 1").fetchone()[0]


def assert_refused(r, field: str | None = None, code: str = "invalid_characters") -> dict:
    assert r.status_code == 400, (r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert body["code"] == code, body
    assert body["detail"]
    if field is not None:
        assert body.get("parameter") == field, body
    return body


# --- the rules themselves ---------------------------------------------------------------------


@pytest.mark.parametrize("char, shown", BAD.items())
def test_a_bad_character_is_named_by_its_code_point(char, shown):
    assert bad_character(f"Хрещатик{char}22") == shown
    assert bad_character(f"Хрещатик{char}22", multiline=True) == shown


def test_lines_and_tabs_only_in_long_texts():
    assert bad_character("рядок\nрядок\tі\r\nще", multiline=True) is None
    assert bad_character("рядок\nрядок") == "U+000A"
    assert bad_character("\ud800", multiline=True) == "U+D800"


def test_a_json_tree_names_the_path_of_its_bad_string():
    with pytest.raises(Exception) as err:
        check_tree({"author": {"emails": ["a@b.c", "x\x00"]}})
    assert err.value.params["parameter"] == "author.emails[1]"


# --- every route: paths and query parameters ---------------------------------------------------


def _string_path_routes(app) -> list[tuple[str, str, list[str]]]:
    out = []
    for route in iter_api_routes(app):
        params = [p.name for p in route.dependant.path_params]
        if params:
            for method in sorted(route.methods - {"HEAD"}):
                out.append((method, route.path_format, params))
    return out


def _query_routes(app) -> list[tuple[str, str, list[str]]]:
    out = []
    for route in iter_api_routes(app):
        if route.dependant.query_params and "GET" in route.methods:
            out.append(("GET", route.path_format, [p.name for p in route.dependant.query_params]))
    return out


@pytest.mark.parametrize("role", ["anonymous", "administrator"])
def test_a_bad_character_in_any_path_parameter_is_a_400(app, client, admin, role):
    headers = admin if role == "administrator" else {}
    tried = 0
    for method, path, params in _string_path_routes(app):
        for bad in ("\x00", "\u202e"):
            url = path
            for p in params:
                url = url.replace("{" + p + "}", quote(f"1{bad}", safe=""))
            r = client.request(method, url, headers=headers, json={})
            assert r.status_code == 400, (method, path, r.status_code, r.text)
            tried += 1
            if path.startswith("/open311/"):  # the spec's errors/error (api/open311.py)
                error = r.json()[0] if path.endswith(".json") else ET.fromstring(r.content)[0]
                code = error["code"] if isinstance(error, dict) else int(error.findtext("code"))
                assert code == 400, (method, path, r.text)
                continue
            assert r.json()["code"] == "invalid_characters"
            assert r.json()["parameter"] == "path"
    assert tried > 20  # the appeal, its history and resolutions, the queue, the admin's ids …


@pytest.mark.parametrize("role", ["anonymous", "administrator"])
def test_a_bad_character_in_any_declared_query_parameter_is_a_400(app, client, admin, role):
    headers = admin if role == "administrator" else {}
    for _, path, params in _query_routes(app):
        url = re.sub(r"\{[^}]+\}", "1", path)
        for p in params:
            for bad, shown in BAD.items():
                r = client.get(url, params={p: f"a{bad}b"}, headers=headers)
                body = assert_refused(r, p)
                assert shown in body["detail"]


# The parameters the issue found reaching PostgreSQL, each by the route that reads it (the OGC
# items and the tiles read their query strings themselves, undeclared in the signature).
QUERY_CASES = [
    ("/api/v1/geocode/search", "q"),
    ("/api/v1/route", "category"),
    ("/api/v1/appeals/nearby", "category"),
    ("/ogc/collections/appeals/items", "district"),
    ("/ogc/collections/appeals/items", "executor"),
    ("/tiles/appeals/10/598/345.mvt", "district"),
    ("/tiles/appeals/10/598/345.mvt", "executor"),
    ("/api/v1/queue", "district"),
    ("/api/v1/appeals/public", "category"),
]


@pytest.mark.parametrize("path, param", QUERY_CASES)
@pytest.mark.parametrize("bad", ["%00", "%E2%80%AE", "%1B"])
def test_the_parameters_found_reaching_the_database(client, admin, path, param, bad):
    r = client.get(f"{path}?{param}=x{bad}y", headers=admin)
    assert_refused(r, param)


def test_the_author_read_with_a_nul_in_its_purpose(client, admin, appeal_number):
    number = quote(appeal_number, safe="")
    r = client.get(f"/api/v1/appeals/{number}/author?purpose=a%00b", headers=admin)
    assert_refused(r, "purpose")


@pytest.mark.parametrize(
    "path", ["/api/v1/appeals/{n}", "/api/v1/appeals/{n}/history", "/api/v1/queue/{n}"]
)
def test_a_nul_in_an_appeal_number(client, admin, appeal_number, path):
    r = client.get(path.format(n=quote(appeal_number, safe="") + "%00"), headers=admin)
    assert_refused(r, "path")


def test_a_clean_number_still_opens_its_appeal(client, appeal_number):
    r = client.get(f"/api/v1/appeals/{quote(appeal_number, safe='')}")
    assert r.status_code == 200, r.text
    assert r.json()["number"] == appeal_number


# --- bodies -------------------------------------------------------------------------------------


def _appeal(**changes) -> dict:
    body = {
        "category": "1",
        "text": "Яма на дорозі біля зупинки, глибока, небезпечна для велосипедистів.",
        "location": {"lon": 30.5234, "lat": 50.4501},
        "author": {
            "full_name": "Петренко Іван",
            "email": "ivan@example.org",
            "postal_address": "вул. Хрещатик, 22, кв. 5, Київ",
        },
        "consent_to_publish": True,
    }
    for key, value in changes.items():
        target = body
        *path, last = key.split(".")
        for part in path:
            target = target[part]
        target[last] = value
    return body


def _count(demo_url) -> int:
    with psycopg.connect(demo_url) as conn:
        return conn.execute("SELECT count(*) FROM appeals").fetchone()[0]


@pytest.mark.parametrize(
    "field", ["text", "category", "author.email", "author.postal_address", "author.full_name"]
)
@pytest.mark.parametrize("bad", ["\x00", "\x07", "\u202e"])
def test_a_bad_character_in_an_appeal_is_refused_and_nothing_stored(client, demo_url, field, bad):
    before = _count(demo_url)
    r = client.post("/api/v1/appeals", json=_appeal(**{field: f"Текст{bad}текст"}))
    assert_refused(r, field)
    assert _count(demo_url) == before


def test_an_unpaired_surrogate_with_an_idempotency_key(client, demo_url):
    raw = json.dumps(_appeal(text="PIT on the road by the stop, deep and dangerous."))
    raw = raw.replace("PIT", "\\ud800")
    before = _count(demo_url)
    r = client.post(
        "/api/v1/appeals", content=raw, headers={
            "Content-Type": "application/json", "Idempotency-Key": "edge-surrogate-1"},
    )  # fmt: skip
    body = assert_refused(r, "text")
    assert "U+D800" in body["detail"]
    assert _count(demo_url) == before


def test_an_appeal_text_of_control_characters_only(client):
    r = client.post("/api/v1/appeals", json=_appeal(text="\x07\x1b\x07\x1b"))
    assert_refused(r, "text")


def test_lines_and_tabs_in_an_appeal_text_are_kept(client, demo_url):
    text = "Яма на дорозі.\n\tГлибока, небезпечна\nдля велосипедистів."
    with psycopg.connect(demo_url) as conn:
        subkind = conn.execute(
            "SELECT id FROM categories WHERE parent_id IS NOT NULL ORDER BY id LIMIT 1"
        ).fetchone()[0]
    r = client.post("/api/v1/appeals", json=_appeal(text=text, category=str(subkind)))
    assert r.status_code == 201, r.text
    with psycopg.connect(demo_url) as conn:
        stored = conn.execute(
            "SELECT text FROM appeals WHERE number = %s", (r.json()["number"],)
        ).fetchone()[0]
    assert stored == text


def test_a_bad_character_in_a_multipart_field(client):
    r = client.post("/api/v1/appeals", data={
        "category": "1", "text": "Яма на дорозі\x00", "lon": "30.52", "lat": "50.45"})  # fmt: skip
    assert_refused(r, "text")


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.parametrize("count", [6, 21, 40])
def test_too_many_photos_is_named_so_whatever_their_number(client, count):
    png = _png()
    files = [("photos", (f"p{i}.png", png, "image/png")) for i in range(count)]
    r = client.post("/api/v1/appeals", data={"data": json.dumps(_appeal())}, files=files)
    body = assert_refused(r, "photos", code="too_many_photos")
    assert "5" in body["detail"]


# --- integers ----------------------------------------------------------------------------------

INT_CASES = [
    ("get", "/api/v1/users?after=2147483648"),
    ("get", "/api/v1/users?after=-1"),
    ("get", "/api/v1/routing-rules?executor_id=2147483648"),
    ("get", "/api/v1/routing-rules?category_id=99999999999999999999999"),
    ("get", "/api/v1/routing-rules?after=2147483648"),
    ("get", "/api/v1/users/2147483648"),
    ("patch", "/api/v1/categories/2147483648"),
]


@pytest.mark.parametrize("method, url", INT_CASES)
def test_integers_past_postgresql_integer_are_a_400(client, admin, method, url):
    r = client.request(method, url, headers=admin, json={})
    assert r.status_code == 400, (r.status_code, r.text)
    assert r.json()["code"] in ("invalid_field_value", "invalid_integer"), r.json()
    assert r.json()["parameter"]


def test_a_rule_with_a_priority_past_integer(client, admin):
    r = client.post(
        "/api/v1/routing-rules", headers=admin,
        json={"executor_id": 1, "category_id": 1, "priority": 2147483648},
    )  # fmt: skip
    assert r.status_code == 400, r.text
    assert r.json()["parameter"] == "priority"


def test_a_validation_error_is_told_in_the_callers_language(client, admin):
    url = "/api/v1/users?after=2147483648"
    uk = client.get(url, headers=admin).json()["detail"]
    en = client.get(url, headers={**admin, "Accept-Language": "en"}).json()["detail"]
    assert "не більше 2147483647" in uk
    assert "at most 2147483647" in en


# --- the error contract ---------------------------------------------------------------------------


def test_every_error_is_json_in_the_callers_language(client):
    for path in ("/no/such/page", "/api/v1/appeals/%00", "/ogc/collections/nope"):
        for lang, marker in (("uk", "uk"), ("en", "en")):
            r = client.get(path, headers={"Accept-Language": lang})
            assert r.status_code >= 400
            assert r.headers["content-type"].startswith("application/json")
            assert r.headers["content-language"] == marker
            assert set(r.json()) >= {"code", "detail"}


def test_an_unexpected_failure_is_a_json_500_with_a_logged_id_and_the_connection_kept(
    demo_url, caplog
):
    app = create_app(Settings(database_url=demo_url, demo_mode=True))

    @app.get("/api/v1/_boom")
    async def boom() -> dict:
        raise RuntimeError("a bug nobody mapped")

    with caplog.at_level(logging.ERROR, logger="hromada.api"), serve(app) as base:
        conn = http.client.HTTPConnection(urlsplit(base).hostname, urlsplit(base).port)
        conn.request("GET", "/api/v1/_boom", headers={"Accept-Language": "en"})
        r = conn.getresponse()
        body = json.loads(r.read())
        assert r.status == 500
        assert r.getheader("content-type").startswith("application/json")
        assert body["code"] == "internal_error"
        assert body["request_id"] in body["detail"]
        assert r.getheader("x-request-id") == body["request_id"]
        # the same connection answers the next request
        conn.request("GET", "/healthz")
        again = conn.getresponse()
        again.read()
        assert again.status in (200, 503)
        conn.close()
    logged = [rec for rec in caplog.records if body["request_id"] in rec.getMessage()]
    assert logged and logged[0].exc_info and "a bug nobody mapped" in str(logged[0].exc_info[1])


@pytest.mark.parametrize(
    "params, code, field",
    [
        ({"after": "1-99999999999"}, "invalid_cursor", "after"),
        ({"after": "1-²"}, "invalid_cursor", "after"),
        ({"after": "7-1"}, "invalid_cursor", "after"),
        ({"created_from": "0001-01-01"}, "invalid_date", "created_from"),
        ({"category": "2147483648"}, "invalid_field_value", "category"),
        ({"limit": "0"}, "invalid_field_value", "limit"),
    ],
)
def test_the_staff_queue_parses_its_values_like_the_rest(client, admin, params, code, field):
    assert_refused(client.get("/api/v1/queue", params=params, headers=admin), field, code)


@pytest.mark.parametrize(
    "url, field",
    [
        ("/ogc/collections/appeals/items?bbox=30.2,50.2,0,30.8,50.6,100&limit=1", None),
        ("/api/v1/appeals/public?bbox=30.2,50.2,0,30.8,50.6,100&limit=1", None),
        ("/ogc/collections/appeals/items?bbox=1,2,3", "bbox"),
        ("/api/v1/appeals/public?bbox=1,2,3", "bbox"),
        ("/ogc/collections/appeals/items?limit=99999999999999999999", "limit"),
        ("/api/v1/appeals/public?limit=99999999999999999999", "limit"),
        ("/ogc/collections/appeals/items?executor=99999999999", "executor"),
    ],
)
def test_one_bbox_and_limit_for_the_ogc_items_and_the_public_feed(client, url, field):
    r = client.get(url)
    if field is None:
        assert r.status_code == 200, r.text
    else:
        assert r.status_code == 400, r.text
        assert r.json()["parameter"] == field


def test_raw_utf8_in_a_query_or_a_form_is_not_mistaken_for_control_characters():
    # «П» is D0 9F in UTF-8; read as Latin-1 its second byte would be the C1 control U+009F.
    check_query("q=Печерськ&category=%D0%9F".encode())
    check_body(b"application/x-www-form-urlencoded", "text=Підтоплення".encode())
    with pytest.raises(InvalidParameter):
        check_query("q=П%C2%9F".encode())  # the real U+009F, percent-encoded
