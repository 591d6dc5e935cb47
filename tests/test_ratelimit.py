"""Abuse: rate limits per IP and per account (429 + Retry-After), request size limits (413),
and no password or token in the logs. Throwaway routes on the real app (create_app)."""

from __future__ import annotations

import io
import logging

import pytest
from fastapi import Request
from pydantic import BaseModel
from starlette.testclient import TestClient

from api import create_app
from api.ratelimit import check_account_limit, rate_limit
from gis.redact import RedactingFilter, install_log_redaction, redact
from gis.settings import Settings

NO_DB = "postgresql://nobody@127.0.0.1:1/none"


class LoginIn(BaseModel):
    email: str


def make_app(**overrides):
    settings = Settings(
        database_url=NO_DB,
        rate_limit_login="3/minute",
        max_json_bytes=100,
        max_upload_bytes=1000,
        **overrides,
    )
    app = create_app(settings)

    async def login(request: Request, body: LoginIn) -> dict:
        check_account_limit(request, "login", body.email)
        return {"ok": True}

    async def echo(request: Request) -> dict:
        return {"size": len(await request.body())}

    async def parsed(body: LoginIn) -> dict:
        return {"email": body.email}

    async def upload(request: Request) -> dict:
        form = await request.form()
        return {"fields": sorted(form.keys())}

    app.add_api_route("/t/login", login, methods=["POST"], dependencies=[rate_limit("login")])
    app.add_api_route("/t/echo", echo, methods=["POST"])
    app.add_api_route("/t/parsed", parsed, methods=["POST"])
    app.add_api_route("/t/upload", upload, methods=["POST"])
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


# --- request sizes -------------------------------------------------------------------------


def test_an_oversized_body_with_content_length_gets_413():
    c = client(make_app())
    r = c.post("/t/echo", content=b"x" * 101, headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    assert r.json()["code"] == "payload_too_large"
    assert "100" in r.json()["detail"]
    r = c.post("/t/echo", content=b"x" * 101, headers={"Accept-Language": "en"})
    assert r.status_code == 413 and r.json()["detail"].startswith("The request is too large")


def test_an_oversized_chunked_body_gets_413():
    c = client(make_app())

    def chunks():
        for _ in range(10):
            yield b"y" * 30

    r = c.post("/t/echo", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["code"] == "payload_too_large"
    # Also when FastAPI itself parses the body (it would call a broken body a 400).
    r = c.post("/t/parsed", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["code"] == "payload_too_large"


def test_a_normal_body_passes():
    c = client(make_app())
    assert c.post("/t/echo", content=b"z" * 100).json() == {"size": 100}
    assert c.post("/t/echo", content=iter([b"z" * 50, b"z" * 50])).json() == {"size": 100}
    assert c.post("/t/parsed", json={"email": "a@example.ua"}).json() == {"email": "a@example.ua"}


def test_multipart_uploads_have_their_own_limit():
    c = client(make_app())
    small_photo = {"photo": ("p.jpg", b"\xff" * 500, "image/jpeg")}  # over JSON's 100 bytes
    assert c.post("/t/upload", files=small_photo).json() == {"fields": ["photo"]}
    big_photo = {"photo": ("p.jpg", b"\xff" * 1500, "image/jpeg")}
    r = c.post("/t/upload", files=big_photo)
    assert r.status_code == 413 and "1000" in r.json()["detail"]


# --- log hygiene ---------------------------------------------------------------------------

SECRETS = [
    ("Authorization: Bearer eyJhbGciOi.payload-sig_1", "eyJhbGciOi"),
    ("Cookie: lang=uk; hromada_session=AbC123xyz", "AbC123xyz"),
    ('{"email": "a@example.ua", "password": "hunter2 with space"}', "hunter2"),
    ("{'new_password': 'hunter3', 'n': 1}", "hunter3"),
    ("password=hunter4&email=a%40example.ua", "hunter4"),
    ("GET /api/v1/auth/confirm?token=tok123&next=/ HTTP/1.1", "tok123"),
    ("https://hromada.example/reset#token=tok456", "tok456"),
    ("postgresql://hromada:dbpass789@db:5432/hromada", "dbpass789"),
]


@pytest.mark.parametrize(("line", "secret"), SECRETS)
def test_redact(line, secret):
    cleaned = redact(line)
    assert secret not in cleaned and "***" in cleaned


def test_the_filter_redacts_messages_args_and_tracebacks_and_keeps_the_rest():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("hromada.test_redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("login for %s with %s", "a@example.ua", "password=hunter2")
        # uvicorn's access log formats its args itself: they must stay a 5-tuple.
        logger.warning('%s - "%s %s HTTP/%s" %d', "1.2.3.4", "GET", "/r?token=tok1", "1.1", 200)
        try:
            raise RuntimeError('bad body {"password": "hunter9"}')
        except RuntimeError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    out = stream.getvalue()
    assert "hunter2" not in out and "tok1" not in out and "hunter9" not in out
    assert "login for a@example.ua with password=***" in out
    assert '1.2.3.4 - "GET /r?token=*** HTTP/1.1" 200' in out
    assert "RuntimeError" in out


def test_create_app_puts_the_filter_on_the_root_handlers():
    handler = logging.StreamHandler(io.StringIO())
    logging.getLogger().addHandler(handler)
    try:
        make_app()
        install_log_redaction()  # idempotent
        assert sum(isinstance(f, RedactingFilter) for f in handler.filters) == 1
    finally:
        logging.getLogger().removeHandler(handler)
