"""Abuse: rate limits per IP and per account (429 + Retry-After). Throwaway routes on the
real app (create_app)."""

from __future__ import annotations

import pytest
from fastapi import Request
from pydantic import BaseModel
from starlette.testclient import TestClient

from api import create_app
from api.ratelimit import check_account_limit, rate_limit
from gis.settings import Settings

NO_DB = "postgresql://nobody@127.0.0.1:1/none"


class LoginIn(BaseModel):
    email: str


def make_app(**overrides):
    settings = Settings(
        database_url=NO_DB,
        rate_limit_login="3/minute",
        **overrides,
    )
    app = create_app(settings)

    async def login(request: Request, body: LoginIn) -> dict:
        check_account_limit(request, "login", body.email)
        return {"ok": True}

    app.add_api_route("/t/login", login, methods=["POST"], dependencies=[rate_limit("login")])
    return app


def client(app, ip="203.0.113.1", **kw) -> TestClient:
    return TestClient(app, client=(ip, 40000), **kw)


# --- rate limits ---------------------------------------------------------------------------


def test_the_request_over_the_ip_limit_gets_429_with_retry_after():
    app = make_app()
    c = client(app)
    for i in range(3):
        assert c.post("/t/login", json={"email": f"u{i}@example.ua"}).status_code == 200
    r = c.post("/t/login", json={"email": "u9@example.ua"})
    assert r.status_code == 429
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    body = r.json()
    assert body["code"] == "rate_limited"
    assert body["detail"].startswith("Забагато спроб")
    assert r.headers["Retry-After"] in body["detail"]

    en = c.post("/t/login", json={"email": "u9@example.ua"}, headers={"Accept-Language": "en"})
    assert en.status_code == 429 and en.json()["detail"].startswith("Too many attempts")

    # Another client address is counted on its own.
    assert client(app, ip="203.0.113.2").post("/t/login", json={"email": "x@example.ua"}).is_success
    # A fresh app (a fresh limiter) starts clean.
    assert client(make_app()).post("/t/login", json={"email": "u0@example.ua"}).is_success


def test_the_account_limit_is_independent_of_the_ip():
    app = make_app()
    # Three attempts on one account from three addresses: each address is well under its limit.
    for i in range(3):
        r = client(app, ip=f"198.51.100.{i}").post("/t/login", json={"email": "Olena@Example.ua"})
        assert r.status_code == 200
    # The fourth on the same account (spelt differently) is refused, from a fresh address too.
    r = client(app, ip="198.51.100.99").post("/t/login", json={"email": " olena@example.ua"})
    assert r.status_code == 429 and "Retry-After" in r.headers
    # Another account from that address goes through.
    r = client(app, ip="198.51.100.99").post("/t/login", json={"email": "taras@example.ua"})
    assert r.status_code == 200


def test_limits_can_be_switched_off():
    c = client(make_app(rate_limits_enabled=False))
    assert all(
        c.post("/t/login", json={"email": "a@example.ua"}).status_code == 200 for _ in range(6)
    )


def test_an_unknown_limit_name_fails_at_declaration():
    with pytest.raises(ValueError):
        rate_limit("no_such_limit")
