"""Security headers (api/headers.py) on every answer: pages, API, static files, tiles and
errors; Cache-Control: no-store wherever personal data or tokens are answered."""

from __future__ import annotations

import pytest
from fastapi import Request
from fastapi.testclient import TestClient
from test_auth import add_appeal, add_executors, add_user, login, sql

from api import create_app
from api.headers import tile_source
from gis.settings import OSM_TILES, Settings

FIXED = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
}


def directives(response) -> dict[str, list[str]]:
    policy = response.headers["content-security-policy"]
    out = {}
    for part in policy.split(";"):
        name, *values = part.split()
        out[name] = values
    return out


def assert_secured(response) -> None:
    for name, value in FIXED.items():
        assert response.headers.get(name) == value, (response.url, name)
    csp = directives(response)
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]
    assert csp["style-src"] == ["'self'"]
    assert csp["connect-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'self'"] and csp["form-action"] == ["'self'"]


def make_client(db_url: str, **settings) -> TestClient:
    app = create_app(Settings(database_url=db_url, **settings))

    async def boom(request: Request) -> dict:
        raise RuntimeError("an unexpected failure")

    app.add_api_route("/t/boom", boom)
    # https: the session cookie is Secure; no raising, so the 500 is answered as a client sees it
    return TestClient(app, base_url="https://testserver", raise_server_exceptions=False)


def test_every_kind_of_answer_carries_the_headers(db_url):
    with make_client(db_url) as c:
        answers = {
            "page": c.get("/"),
            "static": c.get("/static/js/portal.js"),
            "static 404": c.get("/static/js/none.js"),
            "ogc": c.get("/ogc"),
            "health": c.get("/healthz"),
            "404": c.get("/no/such/page"),
            "401": c.get("/api/v1/me"),
            "400": c.get("/ogc/collections/appeals/items?limit=nope"),
            "405": c.delete("/ogc"),
            "422 body": c.post(
                "/api/v1/auth/login", content=b"{", headers={"Content-Type": "application/json"}
            ),  # fmt: skip
            "500": c.get("/t/boom"),
        }
    for kind, r in answers.items():
        assert r.status_code >= 200, kind
        assert_secured(r)
    assert answers["500"].status_code == 500 and answers["404"].status_code == 404


def test_images_may_come_from_the_background_tile_server_only(db_url):
    with make_client(db_url, basemap_url=OSM_TILES) as c:  # the default (tests turn it off)
        img = directives(c.get("/"))["img-src"]
    assert img == ["'self'", "data:", "blob:", "https://tile.openstreetmap.org"]
    with make_client(
        db_url, basemap_url="https://{s}.tiles.city.example:8443/{z}/{x}/{y}.png"
    ) as c:
        assert "https://*.tiles.city.example:8443" in directives(c.get("/"))["img-src"]
    with make_client(db_url, basemap_url="off") as c:
        assert directives(c.get("/"))["img-src"] == ["'self'", "data:", "blob:"]


@pytest.mark.parametrize(
    ("template", "source"),
    [
        ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "https://tile.openstreetmap.org"),
        ("https://{s}.tile.example.org/{z}/{x}/{y}.png", "https://*.tile.example.org"),
        ("http://127.0.0.1:9000/{z}/{x}/{y}.png", "http://127.0.0.1:9000"),
        ("/tiles/background/{z}/{x}/{y}.png", None),
        (None, None),
    ],
)
def test_tile_source(template, source):
    assert tile_source(template) == source


def test_personal_data_and_tokens_are_never_stored(db_url):
    user_id = add_user(db_url, "citizen@example.ua")
    _rda, zhed, _other = add_executors(db_url)
    add_user(db_url, "zhed@example.ua", role="executor", executor_id=zhed)
    add_appeal(db_url, user_id)
    sql(db_url, "UPDATE appeals SET executor_id = %s", (zhed,))
    with make_client(db_url) as c:
        r = login(c, "zhed@example.ua")
        assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
        staff = {"Authorization": f"Bearer {r.json()['access_token']}"}
        cookie = login(c, "citizen@example.ua", session="cookie")
        assert cookie.headers["cache-control"] == "no-store"
        private = {
            "me": c.get("/api/v1/me"),
            "my data": c.get("/api/v1/me/data"),
            "my appeals": c.get("/api/v1/me/appeals"),
            "queue": c.get("/api/v1/queue", headers=staff),
            "card": c.get("/api/v1/queue/2026-000001", headers=staff),
            "author": c.get("/api/v1/appeals/2026-000001/author", headers=staff),
            "wrong password": login(c, "zhed@example.ua", "wrong password!"),
            "reset page": c.get("/account/reset"),
            "confirm page": c.get("/account/confirm"),
        }
        public = {"map": c.get("/"), "ogc": c.get("/ogc"), "feed": c.get("/api/v1/appeals/public")}
    assert private["author"].status_code == 200 and private["author"].json()["author"]
    assert private["me"].json()["csrf_token"]
    for kind, r in private.items():
        assert r.headers.get("cache-control") == "no-store", kind
        assert_secured(r)
    for kind, r in public.items():
        assert "no-store" not in r.headers.get("cache-control", ""), kind


def test_the_api_docs_load_nothing_from_outside(tmp_path):
    """/docs is Swagger UI from the app's own static files: a deployment may be offline."""
    from fastapi.testclient import TestClient

    from api import create_app
    from gis.settings import Settings

    with TestClient(create_app(Settings(database_url="postgresql://x@127.0.0.1:1/x"))) as c:
        page = c.get("/docs")
        assert page.status_code == 200
        assert "https://" not in page.text and "/static/vendor/swagger-ui/" in page.text
        assert "https://" not in page.headers["content-security-policy"]
        assert c.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200
