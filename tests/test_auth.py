"""Accounts end to end on a real PostGIS and a real local SMTP server: sign-in with a bearer
token and with a cookie, /me and its scope, sign-out (here and everywhere), expiry, CSRF,
lockout, demo and unconfirmed accounts, registration → mail → confirmation → sign-in,
password reset, export and erasure, messages in English, nothing secret in the logs."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg import AsyncConnection

from api import create_app
from gis import accounts
from gis.settings import Settings

PASSWORD = "correct horse battery"
BASE = "https://hromada.test"


def make_client(db_url: str, *, base_url: str = "https://testserver", **settings) -> TestClient:
    settings.setdefault("public_base_url", BASE)
    return TestClient(create_app(Settings(database_url=db_url, **settings)), base_url=base_url)


def run(db_url: str, fn, **kwargs):
    """Call a gis.accounts function on its own autocommit connection."""

    async def go():
        async with await AsyncConnection.connect(db_url, autocommit=True) as conn:
            return await fn(conn, **kwargs)

    return asyncio.run(go())


def sql(db_url: str, query: str, params=()):
    with psycopg.connect(db_url, autocommit=True) as conn:
        cur = conn.execute(query, params)
        return cur.fetchall() if cur.description else None


def add_user(db_url: str, email: str, role: str = "citizen", **kwargs) -> int:
    kwargs.setdefault("confirmed", True)
    kwargs.setdefault("password", PASSWORD)
    return run(
        db_url, accounts.create_user, email=email, full_name="Тарас Шевченко", role=role, **kwargs
    )


def login(client: TestClient, email: str, password: str = PASSWORD, session: str = "token", **kw):
    return client.post(
        "/api/v1/auth/login",
        json={"email": email, "password": password, "session": session},
        **kw,
    )


def bearer(client: TestClient, email: str, password: str = PASSWORD) -> dict:
    r = login(client, email, password)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def link_token(message, page: str) -> str:
    body = message.get_content()
    m = re.search(re.escape(f"{BASE}/account/{page}#token=") + r"([A-Za-z0-9_\-]+)", body)
    assert m, body
    return m.group(1)


def add_executors(db_url: str) -> tuple[int, int, int]:
    """A district administration with a housing office under it, and an unrelated utility."""
    (rda,) = sql(
        db_url,
        "INSERT INTO executors (code, name, kind) VALUES ('rda', 'Печерська РДА', "
        "'district_administration') RETURNING id",
    )[0]
    (zhed,) = sql(
        db_url,
        "INSERT INTO executors (code, name, kind, parent_id) VALUES ('zhed', 'ЖЕД-1', "
        "'housing_office', %s) RETURNING id",
        (rda,),
    )[0]
    (other,) = sql(
        db_url,
        "INSERT INTO executors (code, name, kind) VALUES ('water', 'Водоканал', 'utility') "
        "RETURNING id",
    )[0]
    return rda, zhed, other


def add_appeal(db_url: str, user_id: int | None, number: str = "2026-000001") -> int:
    (cat,) = sql(
        db_url,
        "INSERT INTO categories (code, name) VALUES (%s, 'Прибирання') "
        "ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name RETURNING id",
        ("clean",),
    )[0]
    (appeal,) = sql(
        db_url,
        "INSERT INTO appeals (number, category_id, text, channel, deadline_at, geom) "
        "VALUES (%s, %s, 'Сміття у дворі', 'site', now() + interval '15 days', "
        "ST_SetSRID(ST_MakePoint(30.55, 50.43), 4326)) RETURNING id",
        (number, cat),
    )[0]
    sql(
        db_url,
        "INSERT INTO appeal_authors (appeal_id, full_name, email, phone, postal_address, "
        "user_id) VALUES (%s, 'Тарас Шевченко', 'taras@example.ua', '+380441234567', "
        "'вул. Хрещатик, 1', %s)",
        (appeal, user_id),
    )
    return appeal


# --- sign-in and /me ------------------------------------------------------------------------


def test_login_with_a_bearer_token_and_me_shows_the_scope(db_url):
    rda, zhed, other = add_executors(db_url)
    add_user(db_url, "Exec@Example.UA", role="executor", executor_id=rda)
    with make_client(db_url) as c:
        assert c.get("/api/v1/me").status_code == 401
        r = login(c, "exec@example.ua")  # e-mail compared case-insensitively
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["token_type"] == "bearer" and len(body["access_token"]) >= 40
        assert dt.datetime.fromisoformat(body["expires_at"]) > dt.datetime.now(
            dt.UTC
        ) + dt.timedelta(days=29)
        assert r.headers["cache-control"] == "no-store"
        assert "set-cookie" not in r.headers
        me = c.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
        assert me.status_code == 200, me.text
        me = me.json()
        assert me["role"] == "executor"
        assert me["executor"] == {"id": rda, "name": "Печерська РДА"}
        assert me["executor_ids"] == [rda, zhed]  # itself, then its sub-organisations
        assert other not in me["executor_ids"]
        assert me["session"]["kind"] == "bearer" and "csrf_token" not in me
    (stored,) = sql(db_url, "SELECT token_hash FROM auth_sessions")[0]
    assert stored != body["access_token"] and len(stored) == 64  # only the SHA-256


def test_deputy_scope_is_the_ward(db_url):
    add_user(db_url, "deputy@example.ua", role="deputy", ward_number=7)
    with make_client(db_url) as c:
        me = c.get("/api/v1/me", headers=bearer(c, "deputy@example.ua")).json()
    assert me["role"] == "deputy" and me["ward_number"] == 7 and me["executor_ids"] == []


def test_login_with_a_cookie(db_url):
    add_user(db_url, "citizen@example.ua")
    with make_client(db_url) as c:
        r = login(c, "citizen@example.ua", session="cookie")
        assert r.status_code == 200, r.text
        csrf = r.json()["csrf_token"]
        assert csrf and "access_token" not in r.json()
        cookie = r.headers["set-cookie"]
        assert cookie.startswith("hromada_session=")
        for attribute in ("HttpOnly", "Secure", "SameSite=lax", "Path=/", "Max-Age=43200"):
            assert attribute.lower() in cookie.lower(), cookie
        me = c.get("/api/v1/me")
        assert me.status_code == 200, me.text
        assert me.json()["session"]["kind"] == "cookie"
        assert me.json()["csrf_token"] == csrf  # the portal gets it back after a reload


def test_cookie_is_not_secure_over_plain_http_to_localhost_only(db_url):
    add_user(db_url, "citizen@example.ua")
    with make_client(db_url, base_url="http://localhost") as c:
        cookie = login(c, "citizen@example.ua", session="cookie").headers["set-cookie"]
        assert "secure" not in cookie.lower()
        assert c.get("/api/v1/me").status_code == 200
    with make_client(db_url, base_url="http://hromada.example") as c:
        cookie = login(c, "citizen@example.ua", session="cookie").headers["set-cookie"]
        assert "secure" in cookie.lower()
    with make_client(db_url, base_url="http://localhost", cookie_secure=True) as c:
        cookie = login(c, "citizen@example.ua", session="cookie").headers["set-cookie"]
        assert "secure" in cookie.lower()


def test_a_token_is_accepted_only_the_way_it_was_issued(db_url):
    add_user(db_url, "citizen@example.ua")
    with make_client(db_url) as c:
        token = login(c, "citizen@example.ua").json()["access_token"]
        c.cookies.set("hromada_session", token)
        assert c.get("/api/v1/me").status_code == 401  # a bearer token is not a cookie
        c.cookies.clear()
        login(c, "citizen@example.ua", session="cookie")
        cookie_token = c.cookies.get("hromada_session")
        c.cookies.clear()
        r = c.get("/api/v1/me", headers={"Authorization": f"Bearer {cookie_token}"})
        assert r.status_code == 401
        for junk in ("x", "Bearer", "a" * 5000):
            r = c.get("/api/v1/me", headers={"Authorization": f"Bearer {junk}"})
            assert r.status_code == 401


# --- sign-out, expiry -----------------------------------------------------------------------


def test_logout_revokes_the_session(db_url):
    add_user(db_url, "citizen@example.ua")
    with make_client(db_url) as c:
        headers = bearer(c, "citizen@example.ua")
        other = bearer(c, "citizen@example.ua")
        r = c.post("/api/v1/auth/logout", headers=headers)
        assert r.status_code == 200, r.text
        assert c.get("/api/v1/me", headers=headers).status_code == 401
        assert c.get("/api/v1/me", headers=other).status_code == 200  # only this one
        assert c.post("/api/v1/auth/logout", headers=headers).status_code == 401


def test_logout_all_revokes_every_session(db_url):
    add_user(db_url, "citizen@example.ua")
    add_user(db_url, "someone@example.ua")
    with make_client(db_url) as c:
        first, second = bearer(c, "citizen@example.ua"), bearer(c, "citizen@example.ua")
        stranger = bearer(c, "someone@example.ua")
        csrf = login(c, "citizen@example.ua", session="cookie").json()["csrf_token"]
        r = c.post("/api/v1/auth/logout-all", headers=first)
        assert r.status_code == 200 and r.json()["sessions_revoked"] == 3
        assert c.get("/api/v1/me", headers=second).status_code == 401
        assert c.get("/api/v1/me", headers=first).status_code == 401
        assert c.get("/api/v1/me").status_code == 401  # the cookie session too
        assert c.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 401
        assert c.get("/api/v1/me", headers=stranger).status_code == 200


def test_an_expired_session_is_refused(db_url):
    add_user(db_url, "citizen@example.ua")
    with make_client(db_url) as c:
        headers = bearer(c, "citizen@example.ua")
        assert c.get("/api/v1/me", headers=headers).status_code == 200
        sql(db_url, "UPDATE auth_sessions SET expires_at = now() - interval '1 second'")
        r = c.get("/api/v1/me", headers=headers)
        assert r.status_code == 401 and r.json()["code"] == "not_authenticated"


def test_deactivating_an_account_ends_its_sessions_at_once(db_url):
    add_user(db_url, "citizen@example.ua")
    with make_client(db_url) as c:
        headers = bearer(c, "citizen@example.ua")
        sql(db_url, "UPDATE users SET is_active = false")
        assert c.get("/api/v1/me", headers=headers).status_code == 401


def test_last_used_at_is_written_at_most_once_a_minute(db_url):
    add_user(db_url, "citizen@example.ua")
    with make_client(db_url) as c:
        headers = bearer(c, "citizen@example.ua")
        c.get("/api/v1/me", headers=headers)
        (first,) = sql(db_url, "SELECT last_used_at FROM auth_sessions")[0]
        c.get("/api/v1/me", headers=headers)
        assert sql(db_url, "SELECT last_used_at FROM auth_sessions")[0][0] == first
        sql(db_url, "UPDATE auth_sessions SET last_used_at = now() - interval '2 minutes'")
        c.get("/api/v1/me", headers=headers)
        assert sql(db_url, "SELECT last_used_at FROM auth_sessions")[0][0] > first


# --- CSRF -----------------------------------------------------------------------------------


def test_csrf_is_required_on_cookie_sessions_only(db_url):
    add_user(db_url, "citizen@example.ua")
    with make_client(db_url) as c:
        csrf = login(c, "citizen@example.ua", session="cookie").json()["csrf_token"]
        r = c.post("/api/v1/auth/logout")
        assert r.status_code == 403 and r.json()["code"] == "csrf_failed"
        r = c.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf[:-1] + "x"})
        assert r.status_code == 403 and r.json()["code"] == "csrf_failed"
        assert c.get("/api/v1/me").status_code == 200  # reads need none; still signed in
        r = c.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})
        assert r.status_code == 200, r.text
        assert c.get("/api/v1/me").status_code == 401
        # Signing in again over a still-valid cookie needs none either.
        csrf = login(c, "citizen@example.ua", session="cookie").json()["csrf_token"]
        r = login(c, "citizen@example.ua", session="cookie")
        assert r.status_code == 200, r.text
        assert c.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 403
        csrf = r.json()["csrf_token"]
        assert c.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 200
        # Bearer requests need no CSRF token.
        c.cookies.clear()
        assert (
            c.post("/api/v1/auth/logout", headers=bearer(c, "citizen@example.ua")).status_code
            == 200
        )


# --- refusals -------------------------------------------------------------------------------


def from_address(client: TestClient, ip: str) -> TestClient:
    """The client's next requests come from `ip` (the app sees it as the peer address)."""
    client._transport.client = (ip, 40000)  # type: ignore[attr-defined]
    return client


def test_an_attacker_elsewhere_cannot_lock_the_owner_out(db_url):
    add_user(db_url, "admin@example.ua", role="admin")
    with make_client(db_url, login_max_failures=5, login_lockout_minutes=15) as c:
        from_address(c, "198.51.100.7")  # the attacker
        codes = [login(c, "admin@example.ua", "wrong password!").status_code for _ in range(30)]
        assert codes[:5] == [401] * 5 and set(codes[5:]) == {429}
        r = login(c, "admin@example.ua")  # even the right password, from there, waits
        assert r.status_code == 429 and r.json()["code"] == "account_locked"
        # The owner, from their own address, signs in at once.
        from_address(c, "203.0.113.20")
        r = login(c, "admin@example.ua")
        assert r.status_code == 200, r.text
        # ...and a typo of theirs is an ordinary wrong password, not a lockout.
        assert login(c, "admin@example.ua", "wrong password!").status_code == 401
        assert login(c, "admin@example.ua").status_code == 200


def test_the_same_address_waits_longer_after_each_failure(db_url):
    add_user(db_url, "citizen@example.ua")

    def expire_wait():
        sql(db_url, "UPDATE login_failures SET blocked_until = now()")

    # (the address's own limit on failures, tested below, set out of the way)
    with make_client(db_url, login_max_failures=3, login_lockout_minutes=1,
                     rate_limit_login="1000/minute") as c:  # fmt: skip
        from_address(c, "198.51.100.8")
        for _ in range(3):
            assert login(c, "citizen@example.ua", "wrong password!").status_code == 401
        waits = []
        for _ in range(8):
            r = login(c, "Citizen@Example.ua ", "wrong password!")  # spelt otherwise: the same
            assert r.status_code == 429 and r.json()["code"] == "account_locked"
            assert r.headers["Retry-After"] in r.json()["detail"]
            waits.append(int(r.headers["Retry-After"]))
            expire_wait()
            assert login(c, "citizen@example.ua", "wrong password!").status_code == 401
        assert waits == [1, 2, 4, 8, 16, 32, 60, 60]  # doubling, capped at lockout_minutes
        # An unknown e-mail is throttled just the same (nothing tells which accounts exist).
        for _ in range(3):
            assert login(c, "nobody@example.ua", "wrong password!").status_code == 401
        assert login(c, "nobody@example.ua").status_code == 429
        # The right password, once the wait is over, clears this address's count.
        expire_wait()
        assert login(c, "citizen@example.ua").status_code == 200
        left = sql(db_url, "SELECT failures FROM login_failures WHERE address = '198.51.100.8'")
        assert left == [(3,)]  # only nobody@'s
        (stored,) = sql(db_url, "SELECT account_hash FROM login_failures")[0]
        assert "@" not in stored and len(stored) == 64


def test_an_office_behind_one_address_signs_in_at_once(db_url):
    """The per-address limit counts failures only: 30 staff sign in from one NAT."""
    for i in range(30):
        add_user(db_url, f"staff{i}@example.ua", role="operator")
    with make_client(db_url, rate_limit_login="10/minute") as c:
        from_address(c, "192.0.2.1")
        for i in range(30):
            r = login(c, f"staff{i}@example.ua")
            assert r.status_code == 200, (i, r.text)
        # Failures from that address do count: ten wrong passwords (over several accounts)
        # fill its window, and the next attempt of anyone there waits.
        for i in range(10):
            assert login(c, f"staff{i}@example.ua", "wrong password!").status_code == 401
        r = login(c, "staff29@example.ua")
        assert r.status_code == 429 and r.json()["code"] == "rate_limited"
        assert 1 <= int(r.headers["Retry-After"]) <= 60
        # Another address is not affected.
        from_address(c, "192.0.2.2")
        assert login(c, "staff29@example.ua").status_code == 200


def test_a_burst_of_parallel_guesses_cannot_slip_past_the_wait(db_url):
    """One attempt on one account from one address at a time: of 12 sent at once, at most
    the free ones are checked, every other is told to wait (at once, holding no connection)."""
    from concurrent.futures import ThreadPoolExecutor

    import httpx
    from live import serve

    add_user(db_url, "admin@example.ua", role="admin")
    settings = Settings(database_url=db_url, login_max_failures=3, rate_limit_login="1000/minute")
    # Two servers on one database, as two workers of a deployment.
    with serve(create_app(settings)) as one, serve(create_app(settings)) as two:

        def guess(i: int) -> int:
            body = {"email": "admin@example.ua", "password": f"guess number {i}"}
            return httpx.post((one, two)[i % 2] + "/api/v1/auth/login", json=body).status_code

        with ThreadPoolExecutor(12) as pool:
            codes = sorted(pool.map(guess, range(12)))
    assert 1 <= codes.count(401) <= 3, codes
    assert codes.count(429) == 12 - codes.count(401), codes


def test_a_password_reset_lifts_the_waits(db_url):
    user_id = add_user(db_url, "citizen@example.ua")
    with make_client(db_url, login_max_failures=2) as c:
        for _ in range(3):
            login(c, "citizen@example.ua", "wrong password!")
        assert login(c, "citizen@example.ua").status_code == 429
        run(db_url, accounts.set_password, user_id=user_id, password="another horse battery")
        assert login(c, "citizen@example.ua", "another horse battery").status_code == 200


def test_an_unknown_email_and_a_wrong_password_answer_the_same(db_url):
    add_user(db_url, "citizen@example.ua")
    with make_client(db_url) as c:
        unknown = login(c, "nobody@example.ua")
        wrong = login(c, "citizen@example.ua", "wrong password!")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()


def test_demo_accounts_only_in_demo_mode(db_url):
    add_user(db_url, "demo@example.ua", role="planner", is_demo=True)
    with make_client(db_url, demo_mode=True) as c:
        headers = bearer(c, "demo@example.ua")
        assert c.get("/api/v1/me", headers=headers).json()["is_demo"] is True
    with make_client(db_url, demo_mode=False) as c:
        r = login(c, "demo@example.ua")
        assert r.status_code == 403 and r.json()["code"] == "demo_account_disabled"
        # A session opened in demo mode is not honoured once demo mode is off.
        assert c.get("/api/v1/me", headers=headers).status_code == 401


def test_an_unconfirmed_citizen_is_refused(db_url):
    add_user(db_url, "new@example.ua", confirmed=False)
    add_user(db_url, "off@example.ua")
    sql(db_url, "UPDATE users SET is_active = false WHERE email = 'off@example.ua'")
    with make_client(db_url) as c:
        r = login(c, "new@example.ua")
        assert r.status_code == 403 and r.json()["code"] == "email_not_confirmed"
        # Told only to someone who knows the password.
        assert login(c, "new@example.ua", "wrong password!").json()["code"] == "invalid_credentials"
        r = login(c, "off@example.ua")
        assert r.status_code == 403 and r.json()["code"] == "account_inactive"


def test_bad_input_is_a_4xx_never_a_500(db_url):
    with make_client(db_url, rate_limits_enabled=False) as c:
        cases = [
            ("/api/v1/auth/login", {}),
            ("/api/v1/auth/login", {"email": "a@b.ua", "password": "x", "session": "jwt"}),
            ("/api/v1/auth/login", {"email": ["a"], "password": 5}),
            (
                "/api/v1/auth/register",
                {"email": "not-an-email", "password": PASSWORD, "full_name": "A"},
            ),
            ("/api/v1/auth/register", {"email": "a@b.ua", "password": "short", "full_name": "A"}),
            (
                "/api/v1/auth/register",
                {"email": "a@b.ua", "password": "aaaaaaaaaaaa", "full_name": "A"},
            ),
            ("/api/v1/auth/register", {"email": "a@b.ua", "password": PASSWORD, "full_name": "  "}),
            ("/api/v1/auth/register", {"email": "a@b.ua", "password": "x" * 300, "full_name": "A"}),
            ("/api/v1/auth/confirm", {"token": "nope"}),
            ("/api/v1/auth/confirm", {"token": ""}),
            ("/api/v1/auth/password-reset/confirm", {"token": "nope", "password": PASSWORD}),
        ]
        for path, body in cases:
            r = c.post(path, json=body)
            assert 400 <= r.status_code < 500, (path, body, r.status_code, r.text)
            assert r.json()["code"] and r.json()["detail"]
        r = c.post(
            "/api/v1/auth/login", content=b"{not json", headers={"Content-Type": "application/json"}
        )
        assert 400 <= r.status_code < 500
        r = c.post(
            "/api/v1/auth/register", json={"email": "a@b.ua", "password": "short", "full_name": "A"}
        )
        assert r.json()["code"] == "password_too_short"


def test_a_cross_site_form_cannot_sign_in(db_url):
    """A form on another site can post text/plain, never application/json: refused."""
    add_user(db_url, "citizen@example.ua")
    body = f'{{"email": "citizen@example.ua", "password": "{PASSWORD}"}}'
    with make_client(db_url) as c:
        for content_type in ("text/plain", "application/x-www-form-urlencoded"):
            r = c.post("/api/v1/auth/login", content=body, headers={"Content-Type": content_type})
            assert r.status_code == 400, (content_type, r.text)


def test_messages_in_ukrainian_or_english(db_url):
    with make_client(db_url) as c:
        uk = login(c, "nobody@example.ua").json()["detail"]
        en = login(c, "nobody@example.ua", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert uk == "Неправильна адреса e-mail або пароль."
    assert en.json()["detail"] == "Wrong e-mail address or password."
    assert en.headers["content-language"] == "en"


# --- mail flows -----------------------------------------------------------------------------


def mail_client(db_url, smtp_server, **settings) -> TestClient:
    return make_client(db_url, smtp_host=smtp_server.host, smtp_port=smtp_server.port, **settings)


def test_registration_confirmation_and_login(db_url, smtp_server):
    email = "olena@example.ua"
    with mail_client(db_url, smtp_server) as c:
        r = c.post(
            "/api/v1/auth/register",
            json={"email": email, "password": PASSWORD, "full_name": "Олена Пчілка"},
        )
        assert r.status_code == 202, r.text
        mail = smtp_server.wait_for(email)
        assert "Підтвердіть" in mail["Subject"]
        token = link_token(mail, "confirm")
        (role, confirmed) = sql(db_url, "SELECT role, email_confirmed_at FROM users")[0]
        assert role == "citizen" and confirmed is None
        assert login(c, email).json()["code"] == "email_not_confirmed"

        assert c.post("/api/v1/auth/confirm", json={"token": token}).status_code == 200
        r = c.post("/api/v1/auth/confirm", json={"token": token})  # single use
        assert r.status_code == 400 and r.json()["code"] == "invalid_token"
        me = c.get("/api/v1/me", headers=bearer(c, email)).json()
        assert me["role"] == "citizen" and me["email_confirmed"] is True
        assert me["full_name"] == "Олена Пчілка"

        # Signing up again with the address: the same answer, a mail to the owner, no account.
        r = c.post(
            "/api/v1/auth/register",
            json={"email": email.upper(), "password": "another password", "full_name": "X"},
        )
        assert r.status_code == 202 and r.json() == {"status": "confirmation_sent"}
        again = smtp_server.wait_for(email)
        assert (
            "#token=" not in again.get_content() and f"{BASE}/account/reset" in again.get_content()
        )
        assert sql(db_url, "SELECT count(*) FROM users")[0][0] == 1


def test_an_expired_confirmation_link_is_refused(db_url, smtp_server):
    with mail_client(db_url, smtp_server) as c:
        c.post(
            "/api/v1/auth/register",
            json={"email": "late@example.ua", "password": PASSWORD, "full_name": "Запізнілий"},
        )
        token = link_token(smtp_server.wait_for("late@example.ua"), "confirm")
        sql(db_url, "UPDATE user_tokens SET expires_at = now() - interval '1 second'")
        r = c.post("/api/v1/auth/confirm", json={"token": token})
        assert r.status_code == 400 and r.json()["code"] == "invalid_token"


def test_password_reset(db_url, smtp_server):
    email = "citizen@example.ua"
    add_user(db_url, email)
    new_password = "a brand new secret"
    with mail_client(db_url, smtp_server) as c:
        old_session = bearer(c, email)
        r = c.post("/api/v1/auth/password-reset", json={"email": "nobody@example.ua"})
        assert r.status_code == 202
        r = c.post("/api/v1/auth/password-reset", json={"email": email})
        assert r.status_code == 202 and r.json() == {"status": "accepted"}
        mail = smtp_server.wait_for(email)
        token = link_token(mail, "reset")
        assert smtp_server.messages_to("nobody@example.ua") == []

        r = c.post(
            "/api/v1/auth/password-reset/confirm", json={"token": token, "password": "short"}
        )
        assert r.status_code == 400 and r.json()["code"] == "password_too_short"
        r = c.post(
            "/api/v1/auth/password-reset/confirm", json={"token": token, "password": new_password}
        )
        assert r.status_code == 200, r.text
        assert c.get("/api/v1/me", headers=old_session).status_code == 401  # sessions revoked
        assert login(c, email).status_code == 401
        assert login(c, email, new_password).status_code == 200
        r = c.post(
            "/api/v1/auth/password-reset/confirm", json={"token": token, "password": PASSWORD}
        )
        assert r.status_code == 400 and r.json()["code"] == "invalid_token"


def test_a_reset_link_confirms_the_address_and_the_newest_link_wins(db_url, smtp_server):
    email = "new@example.ua"
    add_user(db_url, email, confirmed=False)
    with mail_client(db_url, smtp_server) as c:
        c.post("/api/v1/auth/password-reset", json={"email": email})
        first = link_token(smtp_server.wait_for(email), "reset")
        c.post("/api/v1/auth/password-reset", json={"email": email})
        second = link_token(smtp_server.wait_for(email), "reset")
        body = {"token": first, "password": "a brand new secret"}
        assert c.post("/api/v1/auth/password-reset/confirm", json=body).status_code == 400
        body["token"] = second
        assert c.post("/api/v1/auth/password-reset/confirm", json=body).status_code == 200
        assert login(c, email, "a brand new secret").status_code == 200


# --- personal data --------------------------------------------------------------------------


def test_export_contains_the_users_appeals(db_url):
    user_id = add_user(db_url, "citizen@example.ua")
    add_appeal(db_url, user_id, "2026-000001")
    add_appeal(db_url, None, "2026-000002")  # someone else's
    with make_client(db_url) as c:
        headers = bearer(c, "citizen@example.ua")
        r = c.get("/api/v1/me/data", headers=headers)
    assert r.status_code == 200, r.text
    assert "attachment" in r.headers["content-disposition"]
    data = r.json()
    assert data["account"]["email"] == "citizen@example.ua"
    assert [a["number"] for a in data["appeals"]] == ["2026-000001"]
    appeal = data["appeals"][0]
    assert appeal["author"]["phone"] == "+380441234567" and appeal["category"] == "Прибирання"
    assert appeal["lon"] == pytest.approx(30.55)
    assert len(data["sessions"]) == 1
    token = headers["Authorization"].split()[1]
    assert token not in r.text and "token_hash" not in r.text and "password" not in r.text


def test_erasure_anonymises_the_author_and_ends_the_account(db_url):
    user_id = add_user(db_url, "citizen@example.ua")
    appeal = add_appeal(db_url, user_id)
    with make_client(db_url) as c:
        headers = bearer(c, "citizen@example.ua")
        r = c.request("DELETE", "/api/v1/me", json={"password": "wrong password!"}, headers=headers)
        assert r.status_code == 403 and r.json()["code"] == "wrong_password"
        r = c.request("DELETE", "/api/v1/me", json={}, headers=headers)
        assert r.status_code == 400
        r = c.request("DELETE", "/api/v1/me", json={"password": PASSWORD}, headers=headers)
        assert r.status_code == 200, r.text

        author = sql(
            db_url,
            "SELECT full_name, email, phone, postal_address, user_id FROM appeal_authors "
            "WHERE appeal_id = %s",
            (appeal,),
        )[0]
        assert author == ("Анонімізовано", None, None, None, None)
        assert sql(db_url, "SELECT count(*) FROM appeals")[0][0] == 1  # the appeal stays
        row = sql(
            db_url,
            "SELECT email, password_hash, full_name, is_active, erased_at IS NOT NULL FROM users",
        )[0]
        assert row == (f"erased-{user_id}@invalid", None, "Анонімізовано", False, True)
        assert sql(db_url, "SELECT count(*) FROM auth_sessions WHERE revoked_at IS NULL")[0][0] == 0

        assert c.get("/api/v1/me", headers=headers).status_code == 401
        assert login(c, "citizen@example.ua").status_code == 401
        # The address is free again.
        add_user(db_url, "citizen@example.ua")


def test_staff_cannot_erase_their_own_account(db_url):
    add_user(db_url, "planner@example.ua", role="planner")
    with make_client(db_url) as c:
        headers = bearer(c, "planner@example.ua")
        r = c.request("DELETE", "/api/v1/me", json={"password": PASSWORD}, headers=headers)
        assert r.status_code == 403
        assert c.get("/api/v1/me/data", headers=headers).status_code == 200


def test_create_user_binds_roles_and_keeps_emails_unique(db_url):
    rda, _, _ = add_executors(db_url)
    add_user(db_url, "a@example.ua")
    with pytest.raises(accounts.Conflict):
        add_user(db_url, "A@EXAMPLE.UA")
    with pytest.raises(accounts.InvalidInput) as e:
        add_user(db_url, "m@example.ua", role="manager")
    assert e.value.code == "executor_required"
    with pytest.raises(accounts.InvalidInput) as e:
        add_user(db_url, "d@example.ua", role="deputy")
    assert e.value.code == "ward_required"
    with pytest.raises(accounts.InvalidInput) as e:
        add_user(db_url, "m@example.ua", role="manager", executor_id=rda + 1000)
    assert e.value.code == "unknown_executor"
    add_user(db_url, "m@example.ua", role="manager", executor_id=rda)


def test_an_old_hash_is_upgraded_at_sign_in(db_url):
    from argon2 import PasswordHasher

    user_id = add_user(db_url, "citizen@example.ua")
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    sql(db_url, "UPDATE users SET password_hash = %s WHERE id = %s", (weak, user_id))
    with make_client(db_url) as c:
        assert login(c, "citizen@example.ua").status_code == 200
    (stored,) = sql(db_url, "SELECT password_hash FROM users")[0]
    assert stored != weak and stored.startswith("$argon2id$")


def test_purge_expired_applies_the_retention_periods(db_url):
    user_id = add_user(db_url, "citizen@example.ua")
    appeal = add_appeal(db_url, user_id)
    sql(db_url, "UPDATE appeals SET status = 'closed', closed_at = now() - interval '400 days'")
    run(db_url, accounts.create_session, user_id=user_id, kind="bearer", ip=None,
        user_agent=None, ttl=dt.timedelta(days=-2))  # fmt: skip
    sql(db_url, "INSERT INTO login_failures (account_hash, address, failures, last_failure_at)"
                " VALUES ('old', '192.0.2.1', 3, now() - interval '25 hours'),"
                " ('recent', '192.0.2.1', 3, now() - interval '1 hour')")  # fmt: skip
    # The author's delivered notification (their address and the text) goes with their data.
    sql(db_url, "INSERT INTO notifications (appeal_id, kind, channel, recipient, subject, body,"
                " status) VALUES (%s, 'closed', 'email', 'citizen@example.ua', 'Закрито', '…',"
                " 'sent')", (appeal,))  # fmt: skip
    done = run(db_url, accounts.purge_expired, personal_data_retention_days=365)
    assert done == {"sessions": 1, "tokens": 0, "login_failures": 1, "open311_calls": 0,
                    "authors": 1, "notifications": 1}  # fmt: skip
    assert sql(db_url, "SELECT count(*) FROM notifications") == [(0,)]
    assert sql(db_url, "SELECT account_hash FROM login_failures") == [("recent",)]
    (name,) = sql(db_url, "SELECT full_name FROM appeal_authors WHERE appeal_id = %s", (appeal,))[0]
    assert name == "Анонімізовано"


# --- logs -----------------------------------------------------------------------------------


def test_no_password_or_token_in_the_logs(db_url, smtp_server, caplog):
    caplog.set_level(logging.DEBUG)
    email = "olena@example.ua"
    secrets = [PASSWORD, "a brand new secret"]
    with mail_client(db_url, smtp_server) as c:
        c.post(
            "/api/v1/auth/register", json={"email": email, "password": PASSWORD, "full_name": "О"}
        )
        token = link_token(smtp_server.wait_for(email), "confirm")
        secrets.append(token)
        c.post("/api/v1/auth/confirm", json={"token": token})
        r = login(c, email, session="cookie")
        secrets += [r.json()["csrf_token"], c.cookies.get("hromada_session")]
        c.post("/api/v1/auth/logout", headers={"X-CSRF-Token": r.json()["csrf_token"]})
        c.post("/api/v1/auth/password-reset", json={"email": email})
        reset = link_token(smtp_server.wait_for(email), "reset")
        secrets.append(reset)
        c.post("/api/v1/auth/password-reset/confirm", json={"token": reset, "password": secrets[1]})
        secrets.append(login(c, email, secrets[1]).json()["access_token"])
        login(c, email, "wrong password!")
    assert caplog.records, "expected some log records"
    text = caplog.text
    for secret in secrets + ["wrong password!"]:
        assert secret not in text
