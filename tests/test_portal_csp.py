"""The portal under its Content-Security-Policy, in Debian's chromium: every main page — the
map, filing an appeal, signing in, the cabinet of staff, a citizen's appeals, the deputy's
ward and its printable report, the planner — draws with no CSP violation and no console
error. The background tiles come from a tile server of our own on another port, which the
policy allows for images only.

Each page records its `securitypolicyviolation` events (an init script) beside the console's
errors; both must stay empty.
"""

from __future__ import annotations

import http.server
import io
import threading

import psycopg
import pytest
from browser import live_portal, sign_in

from gis.embedded import free_port

pytestmark = pytest.mark.browser

HTTP_STATUS = "Failed to load resource: the server responded with a status of"
WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""


@pytest.fixture(scope="module")
def tile_template():
    """Background tiles from another origin (127.0.0.1 on its own port)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (256, 256), (230, 236, 230)).save(buf, "PNG")
    png = buf.getvalue()

    class Tiles(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 — http.server's name
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(png)))
            self.end_headers()
            self.wfile.write(png)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Tiles)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/{{z}}/{{x}}/{{y}}.png"
    finally:
        httpd.shutdown()


@pytest.fixture(scope="module")
def portal(server_url, template_url, shared_data, tmp_path_factory, tile_template):
    # The public address is not the one the browser opens: the pages must keep to their own
    # origin anyway (connect-src 'self'), also when following the API's absolute links.
    with live_portal(server_url, template_url, shared_data, tmp_path_factory.mktemp("data"),
                     "csp", appeals=300, basemap_url=tile_template,
                     public_base_url="http://gis.hromada.invalid") as live:  # fmt: skip
        yield live


class Watched:
    """A page whose CSP violations and console errors are kept."""

    def __init__(self, context) -> None:
        context.add_init_script(WATCH)
        self.page = context.new_page()
        self.console: list[str] = []
        self.page.on("console", self._console)

    def _console(self, message) -> None:
        # An answer's HTTP status is logged as an error too (the anonymous /api/v1/me: 401);
        # those are the pages' business, not the policy's.
        if message.type == "error" and not message.text.startswith(HTTP_STATUS):
            self.console.append(f"{message.text} {message.location}")

    def check(self, where: str) -> None:
        violations = self.page.evaluate("window.__csp || []")
        assert violations == [], (where, violations)
        assert self.console == [], (where, self.console)


def test_the_public_pages_draw_under_the_policy(portal, new_context, screenshot):
    w = Watched(new_context())
    page = w.page
    response = page.goto(portal.base + "/")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    page.wait_for_selector('#map[data-state="ready"]', timeout=15_000)
    # The background's tiles (another origin, allowed for images) and the appeals' vector tiles.
    page.wait_for_function(
        "() => document.querySelectorAll('.leaflet-tile-pane img.leaflet-tile-loaded').length >= 4",
        timeout=15_000,
    )
    swatch = page.eval_on_selector("#districts-swatch", "e => getComputedStyle(e).borderStyle")
    assert swatch == "solid"
    # Zooming drops tiles (Leaflet blanks them with a data: GIF): still no violation.
    zoom = "() => Number(location.hash.slice(1).split('/')[0])"
    before = page.evaluate(zoom)
    page.mouse.move(640, 400)
    page.mouse.wheel(0, -600)
    # Zoomed in (the address takes the new zoom once the map has stopped moving).
    page.wait_for_function(f"z => ({zoom})() > z", arg=before, timeout=10_000)
    page.wait_for_selector('#map[data-state="ready"]', timeout=15_000)
    # The wards come in pages, by the OGC API's `next` links (on the public address): the
    # map follows them on its own origin.
    with psycopg.connect(portal.db) as conn:
        (wards,) = conn.execute("SELECT count(*) FROM wards WHERE valid_to IS NULL").fetchone()
    assert wards > 100  # more than one page
    page.hover(".leaflet-control-layers")
    page.get_by_label("Виборчі округи").check()
    page.wait_for_function(
        "n => document.querySelectorAll('.leaflet-areas-pane path').length >= n", arg=wards
    )
    w.check("/")
    screenshot(page, "csp-map")

    page.goto(portal.base + "/appeal/new")
    page.wait_for_selector('#appeal[data-state="ready"]', timeout=15_000)
    # A photo's preview is a blob: image.
    page.set_input_files("#photos", files=[{"name": "p.png", "mimeType": "image/png",
                                            "buffer": _png()}])  # fmt: skip
    page.wait_for_function(
        "() => [...document.querySelectorAll('img')].some(i => i.src.startsWith('blob:') && i.complete"
        " && i.naturalWidth > 0)", timeout=10_000)  # fmt: skip
    w.check("/appeal/new")

    for path, ready in (("/login", "#login-form"), ("/register", '#account[data-state="form"]'),
                        ("/account/reset", '#account[data-state="form"]'),
                        ("/planner", '#map[data-state="ready"]')):  # fmt: skip
        page.goto(portal.base + path)
        page.wait_for_selector(ready, timeout=15_000)
        w.check(path)

    # The watch itself works: a style="…" attribute written into the page is refused.
    page.evaluate("document.body.insertAdjacentHTML('beforeend', '<b style=\"color: red\">x</b>')")
    page.wait_for_function("() => window.__csp.some(v => v.startsWith('style-src'))", timeout=5_000)
    w.console.clear()


def test_the_signed_in_pages_draw_under_the_policy(portal, new_context, screenshot):
    w = Watched(new_context())
    page = w.page
    sign_in(page, portal.base, portal.account("executor"))
    # Every status (the default queue is the open work, which this small city may lack).
    page.select_option("#status-filter", "")
    page.wait_for_selector("#queue tbody tr", timeout=15_000)
    page.click("#queue tbody tr")  # the appeal's card, its map and history
    page.wait_for_selector("#appeal-card:not([hidden])", timeout=15_000)
    w.check("/cabinet (executor)")
    screenshot(page, "csp-cabinet")

    w = Watched(new_context())
    page = w.page
    sign_in(page, portal.base, portal.account("citizen"))
    page.goto(portal.base + "/cabinet/appeals")
    page.wait_for_selector('#my-appeals[data-state="ready"]', timeout=15_000)
    w.check("/cabinet/appeals")

    w = Watched(new_context())
    page = w.page
    sign_in(page, portal.base, portal.account("deputy"))
    page.goto(portal.base + "/cabinet/ward")
    page.wait_for_selector('#deputy[data-state="ready"]', timeout=15_000)
    w.check("/cabinet/ward")
    # The printable report: folium's inline map script, allowed by its hash alone.
    page.goto(portal.base + page.get_attribute("#report-html", "href"))
    page.wait_for_selector(".leaflet-overlay-pane canvas", timeout=15_000)
    w.check("report.html")
    # The dashboard: Chart.js's canvases and the districts' choropleth under the same policy.
    page.goto(portal.base + "/dashboard")
    page.wait_for_selector('#dashboard[data-state="ready"]', timeout=20_000)
    page.wait_for_selector("#weekly-chart[aria-label]", timeout=5_000)
    w.check("/dashboard")

    w = Watched(new_context())
    page = w.page
    sign_in(page, portal.base, portal.account("admin"))
    page.goto(portal.base + "/admin")
    page.wait_for_selector('#admin[data-state="ready"]', timeout=15_000)
    page.locator("#rules-table tbody tr button").first.click()  # a rule's area on the map
    page.wait_for_selector('#rules-map[data-state="ready"]', timeout=15_000)
    # A dispatch area drawn with Leaflet-Geoman, then in its edit mode (vertex markers).
    page.wait_for_selector('#dispatch[data-state="ready"]', timeout=15_000)
    page.locator("#dispatch-new-box summary").click()
    page.select_option("#dispatch-area-kind", "drawn")
    page.get_by_title("Намалювати полігон").click()
    for dx, dy in ((-60, -40), (60, -40), (60, 40), (-60, -40)):
        box = page.locator("#dispatch-map").bounding_box()
        page.mouse.click(box["x"] + box["width"] / 2 + dx, box["y"] + box["height"] / 2 + dy)
    page.wait_for_selector('#dispatch-draw-summary[data-vertices="3"]', timeout=10_000)
    page.get_by_title("Редагувати полігони").click()
    page.wait_for_selector("#dispatch-map .marker-icon", timeout=10_000)
    w.check("/admin")

    w = Watched(new_context())
    page = w.page
    sign_in(page, portal.base, portal.account("operator"))
    page.goto(portal.base + "/operator")
    page.wait_for_selector('#operator[data-state="ready"]', timeout=15_000)
    page.locator("#address-q").fill("Хрещатик, 22")
    page.keyboard.press("Enter")
    page.locator("#address-results button").first.click()  # the map follows
    page.wait_for_selector('#operator[data-place="set"]', timeout=15_000)
    w.check("/operator")


def _png() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 120, 40)).save(buf, "PNG")
    return buf.getvalue()
