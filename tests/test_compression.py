"""gzip for the portal's pages and static files only (api/compression.py)."""

from __future__ import annotations

import gzip

import httpx
from live import serve

from api import create_app
from gis.settings import Settings
from webmap import VENDOR_DIR

GZIP = {"Accept-Encoding": "gzip"}


def raw_get(client: httpx.Client, url: str, headers: dict) -> httpx.Response:
    """The response as sent, without httpx's own decompression."""
    with client.stream("GET", url, headers=headers) as r:
        r.body = b"".join(r.iter_raw())
        return r


def test_the_portals_files_are_gzipped_and_the_data_is_not(db_url):
    with serve(create_app(Settings(database_url=db_url))) as base, httpx.Client() as c:
        leaflet = VENDOR_DIR / "leaflet" / "leaflet.js"
        r = raw_get(c, base + "/static/vendor/leaflet/leaflet.js", GZIP)
        assert r.status_code == 200 and r.headers["content-encoding"] == "gzip"
        assert gzip.decompress(r.body) == leaflet.read_bytes()
        assert len(r.body) < leaflet.stat().st_size / 2

        page = raw_get(c, base + "/", GZIP)
        assert page.headers.get("content-encoding") == "gzip"
        assert b"<html" in gzip.decompress(page.body)
        assert "Accept-Encoding" in page.headers["vary"]

        # A browser that does not ask for it gets the file as it is.
        plain = raw_get(c, base + "/static/vendor/leaflet/leaflet.js", {"Accept-Encoding": ""})
        assert "content-encoding" not in plain.headers and plain.body == leaflet.read_bytes()

        for path in ("/api/v1/categories", "/ogc/collections", "/healthz"):
            r = raw_get(c, base + path, GZIP)
            assert "content-encoding" not in r.headers, path
            assert r.body[:1] == b"{", path
