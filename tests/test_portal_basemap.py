"""The portal's online background: OpenStreetMap's tiles by default, any tile server by
setting, none with "off" (the portal's own layers work offline). In the browser, a tile
server of our own on 127.0.0.1 stands for the online one: the public map draws its tiles
under the districts and credits OpenStreetMap's contributors."""

from __future__ import annotations

import http.server
import io
import threading

import pytest
from live import serve
from test_api import load_districts

from api import create_app
from gis.embedded import free_port
from gis.settings import OSM_TILES, Settings


def test_openstreetmap_is_the_default_and_off_turns_it_off(monkeypatch):
    monkeypatch.delenv("HROMADA_BASEMAP_URL", raising=False)
    assert Settings(_env_file=None).basemap_url == OSM_TILES
    for off in ("off", "", "none"):
        monkeypatch.setenv("HROMADA_BASEMAP_URL", off)
        assert Settings(_env_file=None).basemap_url is None
    monkeypatch.setenv("HROMADA_BASEMAP_URL", "https://tiles.example.city/{z}/{x}/{y}.png")
    assert Settings(_env_file=None).basemap_url.startswith("https://tiles.example.city/")


def _tile_png() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (256, 256), (221, 235, 221)).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def tile_server():
    """A tile server on 127.0.0.1 that answers every /z/x/y.png and remembers what it was
    asked for."""
    png, asked = _tile_png(), []

    class Tiles(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 — http.server's name
            asked.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(png)))
            self.end_headers()
            self.wfile.write(png)

        def log_message(self, *args):
            pass

    port = free_port()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), Tiles)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{port}/{{z}}/{{x}}/{{y}}.png", asked
    finally:
        httpd.shutdown()


def test_the_map_draws_the_background_tiles_of_the_setting(db_url, shared_data, tile_server, page):
    template, asked = tile_server
    load_districts(db_url, shared_data)
    with serve(create_app(Settings(database_url=db_url, basemap_url=template))) as base:
        page.goto(base + "/")
        page.wait_for_selector('#map[data-state="ready"]', timeout=15_000)
        page.wait_for_function(
            "() => document.querySelectorAll('.leaflet-tile-pane img.leaflet-tile-loaded')"
            ".length >= 4", timeout=15_000)  # fmt: skip
        attribution = page.locator(".leaflet-control-attribution").inner_text()
    assert len(asked) >= 4
    # Tiles of Kyiv at the map's zoom: x and y of the city's box at that zoom.
    z, x, y = (int(v) for v in asked[0].removesuffix(".png").strip("/").split("/"))
    assert 9 <= z <= 13
    lon = x / 2**z * 360 - 180
    assert 29.5 < lon < 31.5, asked[:4]
    assert "© OpenStreetMap contributors" in attribution
