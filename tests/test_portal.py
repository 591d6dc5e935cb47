"""The portal's first page: served by the app with its own static files, and, in Debian's
chromium, a map of Kyiv's 10 districts and of the appeals drawn from the vector tiles."""

from __future__ import annotations

import datetime as dt

import pytest
from browser import DESKTOP, PHONE
from fastapi.testclient import TestClient
from live import serve
from test_api import load_districts

from api import create_app
from gis.settings import Settings
from importers.demo import generate
from webmap import VENDOR_DIR

NOW = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def test_home_page_is_a_ukrainian_map_page_with_local_assets_and_english_as_a_switch(db_url):
    with TestClient(create_app(Settings(database_url=db_url))) as c:
        r = c.get("/")
        assert r.status_code == 200
        html = r.text
        assert '<html lang="uk">' in html
        assert 'name="viewport"' in html
        assert "Hromada GIS — Київ" in html
        assert "//unpkg" not in html and "cdn" not in html.lower()
        assert c.get("/static/js/map.js").status_code == 200
        assert c.get("/static/css/map.css").status_code == 200
        assert 'class="lang-switch" data-lang="en"' in html

        # English as a switch: the same page, its texts and status names in English.
        r = c.get("/", params={"lang": "en"})
        html = r.text
        assert '<html lang="en">' in html and 'data-lang="uk"' in html
        assert "<title>Hromada GIS — Kyiv</title>" in html
        assert "Latest appeals" in html and "Check an appeal by its number" in html
        assert ">Closed</label>" in html.replace("\n", "").replace("  ", "")
        assert '<h2 id="list-title">Latest appeals <span' in html


def test_every_page_extends_the_base_template_and_inlines_no_code():
    """One base (webmap/templates/base.html) holds the document's frame; pages fill its
    blocks. No page carries inline script code or style attributes (the CSP allows neither):
    its scripts are files, its data JSON blocks."""
    import re

    from webmap import TEMPLATES_DIR

    pages = [p for p in TEMPLATES_DIR.glob("*.html") if not p.name.startswith("_")]
    assert len(pages) >= 11
    for path in pages:
        text = path.read_text()
        if path.name != "base.html":
            # base.html, or a shared frame (_desk.html) that extends it in turn.
            parent = re.match(r'\{% extends "([^"]+)" %\}\n', text)
            assert parent, path.name
            if parent.group(1) != "base.html":
                frame = (TEMPLATES_DIR / parent.group(1)).read_text()
                assert parent.group(1).startswith("_"), path.name
                assert frame.startswith('{% extends "base.html" %}\n'), parent.group(1)
            assert "<!doctype" not in text.lower() and "<head>" not in text, path.name
        assert not re.search(r"\sstyle=", text), path.name
        for tag in re.findall(r"<script\b[^>]*>", text):
            assert "src=" in tag or 'type="application/json"' in tag, (path.name, tag)


def test_leaflet_is_installed_from_npm_and_served():
    if not (VENDOR_DIR / "leaflet" / "leaflet.js").exists():
        pytest.fail("Leaflet is missing from webmap/static/vendor: run `make assets`")


@pytest.fixture
def live_server(db_url, shared_data):
    """The real app under uvicorn, in a background thread, on a free port."""
    load_districts(db_url, shared_data)
    with serve(create_app(Settings(database_url=db_url))) as base:
        yield base


@pytest.mark.parametrize(("viewport", "name"), [(DESKTOP, "desktop"), (PHONE, "phone")])
def test_the_map_draws_kyivs_ten_districts(live_server, page, screenshot, viewport, name):
    page.set_viewport_size(viewport)
    page.goto(live_server + "/")
    page.wait_for_selector('#map[data-state="ready"]', timeout=15_000)
    assert page.get_attribute("#map", "data-districts") == "10"
    assert page.locator(".leaflet-overlay-pane path").count() == 10
    labels = page.locator(".district-label").all_inner_texts()
    assert "Шевченківський район" in labels and len(labels) == 10
    attribution = page.locator(".leaflet-control-attribution").inner_text()
    assert "© OpenStreetMap contributors" in attribution
    assert page.locator("h1").inner_text() == "Hromada GIS — Київ"
    # Kyiv fills the window: the districts' drawn box spans most of the map.
    box = page.evaluate(
        "() => { const r = document.querySelector('.leaflet-overlay-pane svg g')"
        ".getBoundingClientRect(); return [r.width, r.height]; }"
    )
    assert box[0] > 0.6 * viewport["width"] or box[1] > 0.6 * viewport["height"]
    assert screenshot(page, f"portal-{name}").stat().st_size > 10_000


@pytest.fixture
def demo_server(db_url, shared_data):
    """The app on a small demo city: districts and a few hundred appeals."""
    generate(db_url, seed=3, appeals=400, shared_dir=shared_data, now=NOW)
    with serve(create_app(Settings(database_url=db_url))) as base:
        yield base


# The middle of a symbol painted on one of the appeals' tile canvases (opaque for 3 px each
# way), inside the map and on top there, in page coordinates; null when none is drawn.
DRAWN_SYMBOL = """() => {
  const box = document.getElementById("map").getBoundingClientRect();
  for (const c of document.querySelectorAll(".leaflet-appeals-pane canvas")) {
    const r = c.getBoundingClientRect();
    const data = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    const alpha = (x, y) => data[(y * c.width + x) * 4 + 3];
    for (let y = 3; y < c.height - 3; y++) {
      for (let x = 3; x < c.width - 3; x++) {
        if ([[0, 0], [-3, 0], [3, 0], [0, -3], [0, 3]].some(([dx, dy]) => alpha(x + dx, y + dy) < 150)) continue;
        const px = r.left + (x * r.width) / c.width, py = r.top + (y * r.height) / c.height;
        if (px < box.left + 5 || px > box.right - 5 || py < box.top + 5 || py > box.bottom - 5) continue;
        if (document.elementFromPoint(px, py) === c) return [px, py];
      }
    }
  }
  return null;
}"""


def zoomed_in(page, action) -> None:
    """Do `action` and wait until the map has zoomed in and settled (the zoom in the
    address, written when the map stops moving, is larger)."""
    zoom = "() => Number(location.hash.slice(1).split('/')[0])"
    before = page.evaluate(zoom)
    action()
    page.wait_for_function(f"z => ({zoom})() > z", arg=before)


def test_the_map_draws_the_appeals_from_vector_tiles(demo_server, page, screenshot):
    """Clusters far out, points coloured by status close in: the tiles decode and draw, and
    every request stays on this machine (browser_log)."""
    tiles: list[int] = []
    page.on("response", lambda r: tiles.append(r.status) if ".mvt" in r.url else None)
    # All of the demo year (the map shows the last month by default; this city's year ends
    # on NOW).
    page.goto(demo_server + "/?period=all")
    page.wait_for_selector('#map[data-state="ready"]', timeout=15_000)
    page.wait_for_function("() => Number(document.querySelector('#map')"
                           ".dataset.appealTiles || 0) > 0", timeout=15_000)  # fmt: skip
    page.wait_for_load_state("networkidle")
    # The public map draws its appeals' tiles on canvases: a cluster is where they are painted.
    assert page.locator(".leaflet-appeals-pane canvas").count() > 0
    cluster = page.evaluate(DRAWN_SYMBOL)
    assert cluster, "no appeal drawn on the map"
    screenshot(page, "appeals-clusters")
    zoomed_in(page, lambda: page.mouse.click(*cluster))  # a cluster zooms the map in
    zoom_in = page.locator(".leaflet-control-zoom-in")
    for _ in range(6):
        if "leaflet-disabled" in zoom_in.get_attribute("class"):
            break  # the closest zoom
        zoomed_in(page, zoom_in.click)
    page.wait_for_load_state("networkidle")
    screenshot(page, "appeals-points")
    assert tiles and set(tiles) <= {200, 204, 304}
