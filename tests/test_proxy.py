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
