"""Behind a reverse proxy: `hromada serve` believes X-Forwarded-For from the proxies of
HROMADA_FORWARDED_ALLOW_IPS only, so the per-IP rate limit counts each client behind a trusted
proxy apart, and a client cannot dodge it by sending the header itself."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from gis.embedded import free_port

HROMADA = str(Path(__file__).resolve().parent.parent / ".venv" / "bin" / "hromada")


def serve(db_url: str, trusted: str):
    port = free_port()
    env = dict(os.environ, DATABASE_URL=db_url, HROMADA_FORWARDED_ALLOW_IPS=trusted,
               HROMADA_RATE_LIMIT_LOGIN="2/minute")  # fmt: skip
    proc = subprocess.Popen([HROMADA, "serve", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        assert proc.poll() is None, proc.stdout.read()
        try:
            httpx.get(base + "/healthz", timeout=2)
            return proc, base
        except httpx.TransportError:
            assert time.monotonic() < deadline, "hromada serve did not start"
            time.sleep(0.2)


def login(base: str, n: int, forwarded_for: str) -> int:
    # A new e-mail each time: only the per-IP limit is in play, not the per-account one.
    r = httpx.post(base + "/api/v1/auth/login", headers={"X-Forwarded-For": forwarded_for},
                   json={"email": f"nobody{n}@example.ua", "password": "wrong-password"})  # fmt: skip
    return r.status_code


@pytest.mark.parametrize("trusted", ["127.0.0.1", "10.9.8.7"])
def test_the_rate_limit_sees_the_client_behind_a_trusted_proxy_only(db_url, trusted):
    proc, base = serve(db_url, trusted)
    try:
        assert [login(base, n, "203.0.113.1") for n in range(3)] == [401, 401, 429]
        # Another client behind the proxy: its own count when the proxy (here 127.0.0.1) is
        # trusted; when it is not, the header is ignored and it is the same caller again.
        expected = 401 if trusted == "127.0.0.1" else 429
        assert login(base, 3, "203.0.113.2") == expected
    finally:
        proc.terminate()
        proc.wait(10)


# --- The caching proxy (issue 18, item 7): `hromada serve --proxy-port` puts Debian's nginx in
# front (gis/proxy.py). A public tile is kept and served again from the cache; a signed-in
# member of staff's private tile and queue never are, nor reach anyone else; a new appeal filed
# through the proxy is in the tile through the proxy within seconds (the tiles' max-age,
# then a revalidation with the kept copy's ETag). Everything started is stopped in `finally`.

DEMO = {"prefix": "proxy", "seed": 18, "appeals": 60}
KYIV = (30.5234, 50.4501)


def _tile_path(lon: float, lat: float, z: int = 15) -> str:
    import math

    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return f"/tiles/appeals/{z}/{x}/{y}.mvt"


def test_the_caching_proxy_keeps_public_tiles_only_and_shows_a_new_appeal(demo_url, tmp_path):
    import json

    import psycopg
    from live import wait_for
    from staff import bearer

    from gis.db import libpq_url

    port, proxy_port = free_port(), free_port()
    env = dict(os.environ, DATABASE_URL=demo_url, HROMADA_DATA_DIR=str(tmp_path),
               HROMADA_TILE_CACHE_MAX_AGE="2", HROMADA_RATE_LIMITS_ENABLED="false")  # fmt: skip
    proc = subprocess.Popen([HROMADA, "serve", "--port", str(port), "--proxy-port",
                             str(proxy_port)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)  # fmt: skip
    proxy = f"http://127.0.0.1:{proxy_port}"
    try:

        def up() -> bool:
            assert proc.poll() is None, proc.stdout.read()
            try:
                return httpx.get(proxy + "/healthz", timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        wait_for(up, timeout=30, what="hromada serve behind its proxy")
        path = _tile_path(*KYIV)

        def anonymous() -> httpx.Response:
            r = httpx.get(proxy + path, timeout=10)  # a new client each time: no cookies
            assert r.status_code == 200 and r.headers["cache-control"].startswith("public")
            return r

        first = anonymous()
        assert first.headers["x-cache-status"] in ("MISS", "EXPIRED")
        again = anonymous()
        assert again.headers["x-cache-status"] == "HIT"
        assert again.headers["etag"] == first.headers["etag"] and again.content == first.content

        # A planner's tile of a staff layer is private: past the cache every time, and never
        # served to anyone else; their public tile, too, is the service's own answer.
        staff = bearer(demo_url, "planner", label="proxy")
        operator = bearer(demo_url, "operator", label="proxy")
        internal = path.replace("/appeals/", "/executor_territories/")
        for _ in range(2):
            r = httpx.get(proxy + internal, headers=staff, timeout=10)
            assert r.status_code == 200 and r.headers["cache-control"].startswith("private")
            assert r.headers["x-cache-status"] == "BYPASS"
            assert httpx.get(proxy + path, headers=staff).headers["x-cache-status"] == "BYPASS"
            q = httpx.get(proxy + "/api/v1/queue", headers=operator, timeout=10)
            assert q.status_code == 200 and "no-store" in q.headers["cache-control"]
            assert q.headers["x-cache-status"] == "BYPASS"
        other = anonymous()
        assert other.headers["etag"] == first.headers["etag"] and other.content == first.content
        assert httpx.get(proxy + "/api/v1/queue", timeout=10).status_code == 401
        assert httpx.get(proxy + internal, timeout=10).status_code == 404
        # Even past the bypass (a session cookie nobody holds) a private answer is not kept.
        for _ in range(2):
            r = httpx.get(proxy + "/api/v1/me", timeout=10)
            assert r.headers["x-cache-status"] in ("MISS", "EXPIRED"), r.headers

        # A new appeal filed through the proxy: in the anonymous tile within seconds.
        with psycopg.connect(libpq_url(demo_url)) as conn:
            category = conn.execute(
                "SELECT id FROM categories WHERE parent_id IS NOT NULL AND is_active"
                " AND NOT needs_study ORDER BY id LIMIT 1"
            ).fetchone()[0]
        body = {"category": category, "text": "Яма на дорозі біля зупинки, через проксі.",
                "location": {"lon": KYIV[0], "lat": KYIV[1]},
                "author": {"full_name": "Петренко Іван", "email": "ivan@example.org",
                           "postal_address": "вул. Хрещатик, 22, кв. 5, Київ"},
                "consent_to_publish": True}  # fmt: skip
        r = httpx.post(proxy + "/api/v1/appeals", timeout=20,
                       data={"data": json.dumps(body, ensure_ascii=False)})  # fmt: skip
        assert r.status_code == 201, r.text
        filed = time.monotonic()
        changed = wait_for(lambda: (t := anonymous()).headers["etag"] != first.headers["etag"]
                           and t, timeout=15, step=0.25, what="the new appeal in the tile")  # fmt: skip
        assert len(changed.content) > len(first.content)
        print(f"the new appeal was in the tile through the proxy "
              f"{time.monotonic() - filed:.1f} s after it was filed")  # fmt: skip
        assert anonymous().headers["x-cache-status"] == "HIT"
    finally:
        proc.terminate()
        proc.wait(15)
    import socket

    with socket.socket() as probe:  # nginx is gone with the server: its port is free again
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", proxy_port))
