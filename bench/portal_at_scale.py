"""The public map's appeals layer at its densest, in Debian's chromium (issue 18 item 8): how
long the browser takes to draw the z14 and z16 views over the place with the most appeals, and
a pan by half a screen there, with Leaflet.VectorGrid's two renderers of the same tiles
(/tiles/appeals/…mvt): SVG paths (L.svg.tile) and a canvas per tile (L.canvas.tile).

    .venv/bin/python bench/portal_at_scale.py [--url DATABASE_URL] [--appeals N] [--runs 5]
        [--renderers svg,canvas] [--zooms 14,16] [--query 'datetime=…']

Without --url it loads the demo city with N appeals (1,000,000 by default) into a throwaway
cluster first. The database is only read (the densest tiles: a GROUP BY over
appeals.geom_3857), and the real server (`hromada serve`) serves the portal's own Leaflet, VectorGrid, i18n.js and portal.js and
the tiles. The page is the bench's own (routed by Playwright under /__bench/, never served by
the app): a Leaflet map as the public map makes it (zoomSnap 0.25, the "appeals" pane, the
portal's `appealTiles` with its `appealStyle`, the renderer swapped in), nothing else on it.

Each run is a fresh browser context (the browser's cache empty): setView at the zoom over the
densest tile, timed until every tile is loaded and drawn (the layer's "load", then two animation
frames), then panBy half the map's width, timed the same way. Before the timed runs, one untimed
run per renderer and zoom fills the server's tile cache, so the timed runs read a warm server
cache (the untimed run's figures are printed as "cold"). Per action, besides the times: the
layer's tiles held at the zoom afterwards (a pan keeps the old ones within Leaflet's
keepBuffer), the appeal tiles fetched for it and their bytes, and the symbols drawn in the
tiles held. Headless chromium has no GPU: its GPU process runs on SwiftShader (software).
Nothing here asserts a time.

MapLibre GL JS (through @maplibre/maplibre-gl-leaflet) is not measured: its vector sources take
512-pixel tiles only, so at Leaflet's z14 it asks for z13 tiles, which our server sends as
clusters (bench/README.md).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, loaded_database, server  # noqa: E402

from gis.embedded import free_port  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
# Headless chromium's GPU process on ANGLE over SwiftShader (software; the only GL there is
# without a GPU; chromium 120+ asks for --enable-unsafe-swiftshader to allow it).
GL_FLAGS = [
    "--no-sandbox",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    "--ignore-gpu-blocklist",
]
VIEWPORT = {"width": 1280, "height": 800}
RENDERERS = ("svg", "canvas")
WORLD = 20037508.342789244


def densest(url: str, z: int) -> tuple[int, int, int, float, float]:
    """The zoom-z tile holding the most appeals: x, y, the count, and its centre (lat, lon)."""
    size = 2 * WORLD / 2**z
    with psycopg.connect(url) as conn:
        x, y, n = conn.execute(
            "SELECT floor((ST_X(geom_3857) + %(w)s) / %(s)s)::int AS x,"
            " floor((%(w)s - ST_Y(geom_3857)) / %(s)s)::int AS y, count(*)"
            " FROM appeals WHERE geom_3857 IS NOT NULL GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 1",
            {"w": WORLD, "s": size},
        ).fetchone()
    lon = (x + 0.5) / 2**z * 360.0 - 180.0
    lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * (y + 0.5) / 2**z))))
    return x, y, n, lat, lon


PAGE = """<!doctype html>
<html lang="uk"><head><meta charset="utf-8"><title>bench</title>
<link rel="stylesheet" href="/static/vendor/leaflet/leaflet.css">
<style>html, body, #map {{ margin: 0; height: 100%; }}</style></head>
<body><div id="map"></div>
<script src="/static/js/i18n.js"></script>
<script src="/static/vendor/leaflet/leaflet.js"></script>
<script src="/static/vendor/vectorgrid/Leaflet.VectorGrid.bundled.min.js"></script>
<script src="/static/js/portal.js"></script>
<script>
window.bench = (function () {{
  const RENDERER = {renderer};
  const TILES = {tiles};
  // As the public map (map.js) makes its map and its appeals' pane.
  const map = L.map("map", {{ zoomSnap: 0.25, preferCanvas: false }});
  map.createPane("appeals").style.zIndex = 450;
  const renderers = new Map();
  let layer;
  {{
    // The portal's layer with the renderer asked for; each tile's renderer kept to count its
    // features.
    const factory = RENDERER === "canvas" ? L.canvas.tile : L.svg.tile;
    const rendererFactory = (coords, size, options) => {{
      const renderer = factory(coords, size, options);
      renderers.set(`${{coords.x}}:${{coords.y}}:${{coords.z}}`, renderer);
      return renderer;
    }};
    const protobuf = L.vectorGrid.protobuf;
    L.vectorGrid.protobuf = (url, options) => protobuf(url, {{ ...options, rendererFactory }});
    window.portal.fixVectorGridLatLng(map);
    layer = window.portal.appealTiles(TILES);
  }}
  layer.addTo(map);

  const frames = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));

  // Resolves when the view's appeals are loaded and drawn.
  async function settled() {{
    await new Promise((r) => layer.once("load", r));
    await frames();
  }}

  // Tiles of the current zoom and the features drawn from them.
  function drawn() {{
    const z = Math.round(map.getZoom());
    let features = 0, tiles = 0;
    for (const [key, tile] of Object.entries(layer._tiles)) {{
      if (!tile.current || !key.endsWith(`:${{z}}`) || !renderers.has(key)) continue;
      tiles += 1;
      features += Object.keys(renderers.get(key)._layers).length;
    }}
    return {{ features, tiles }};
  }}

  async function timed(action) {{
    const t0 = performance.now();
    action();
    await settled();
    return {{ ms: performance.now() - t0, ...drawn() }};
  }}

  return {{
    map, layer,
    go: (z, lat, lon) => timed(() => map.setView([lat, lon], z, {{ animate: false }})),
    pan: (dx, dy) => timed(() => map.panBy([dx, dy], {{ animate: false }})),
  }};
}})();
</script></body></html>
"""


def page_html(renderer: str, tiles: str) -> str:
    return PAGE.format(renderer=json.dumps(renderer), tiles=json.dumps(tiles))


def one_run(browser, base: str, renderer: str, tiles: str, z: int, lat: float, lon: float):
    """One fresh context: the view drawn, then panned; per action its ms, tiles, features and
    the appeal tiles' bytes fetched for it."""
    context = browser.new_context(viewport=VIEWPORT, locale="uk-UA")
    try:
        page = context.new_page()
        html = page_html(renderer, tiles)

        def bench_route(route):
            name = route.request.url.rsplit("/", 1)[-1]
            if name == "map.html":
                route.fulfill(body=html, content_type="text/html; charset=utf-8")
            else:
                route.fulfill(status=404)

        page.route("**/__bench/**", bench_route)
        requests: list = []
        page.on("requestfinished",
                lambda r: requests.append(r) if "/tiles/appeals/" in r.url else None)  # fmt: skip
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(base + "/__bench/map.html")
        page.wait_for_function("window.bench !== undefined", timeout=30_000)
        results = {}
        for action, call in (
            ("view", f"bench.go({z}, {lat}, {lon})"),
            ("pan", f"bench.pan({VIEWPORT['width'] // 2}, 0)"),
        ):
            before = len(requests)
            out = page.evaluate(call)
            fetched = requests[before:]
            out["bytes"] = sum(r.sizes()["responseBodySize"] for r in fetched)
            out["requests"] = len(fetched)
            results[action] = out
        if errors:
            print(f"  {renderer} z{z}: page errors: {errors[:3]}")
        return results
    finally:
        context.close()


def gl_info(browser) -> str:
    page = browser.new_page()
    try:
        return page.evaluate("""() => {
            const gl = document.createElement("canvas").getContext("webgl2")
                || document.createElement("canvas").getContext("webgl");
            if (!gl) return "none";
            const info = gl.getExtension("WEBGL_debug_renderer_info");
            return info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER);
        }""")  # fmt: skip
    finally:
        page.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", help="a database with the appeals (only read)")
    ap.add_argument("--appeals", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--renderers", default=",".join(RENDERERS))
    ap.add_argument("--zooms", default="14,16")
    ap.add_argument(
        "--query", default="", help="the tiles' filters, e.g. datetime=2026-11-01T00:00:00Z/.."
    )
    args = ap.parse_args()
    with loaded_database(args.url, args.appeals) as url:
        run(url, args)


def run(url: str, args) -> None:
    renderers = [r for r in args.renderers.split(",") if r]
    zooms = [int(z) for z in args.zooms.split(",")]
    tiles = "/tiles/appeals/{z}/{x}/{y}.mvt" + (f"?{args.query}" if args.query else "")

    from playwright.sync_api import sync_playwright

    places = {}
    for z in zooms:
        x, y, n, lat, lon = densest(url, z)
        places[z] = (lat, lon)
        print(
            f"z{z}: densest tile {z}/{x}/{y} holds {n:,} appeals; view centred at {lat:.5f}, {lon:.5f}"
        )

    port = free_port()
    cmd = [str(ROOT / ".venv" / "bin" / "hromada"), "serve", "--port", str(port)]
    env = {"DATABASE_URL": url, "HROMADA_BASEMAP_URL": "off"}
    rows = []
    with server(cmd, port, env, "/healthz") as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=GL_FLAGS)
        try:
            print(f"chromium's GL: {gl_info(browser)}; flags {' '.join(GL_FLAGS[1:])}")
            for z in zooms:
                lat, lon = places[z]
                for renderer in renderers:
                    cold = one_run(browser, base, renderer, tiles, z, lat, lon)
                    runs = [
                        one_run(browser, base, renderer, tiles, z, lat, lon)
                        for _ in range(args.runs)
                    ]
                    for action in ("view", "pan"):
                        ms = [r[action]["ms"] for r in runs]
                        last = runs[-1][action]
                        rows.append((renderer, z, action, statistics.median(ms), min(ms),
                                     cold[action]["ms"], last["tiles"], last["requests"],
                                     last["bytes"], last["features"]))  # fmt: skip
                        print(
                            f"  {renderer} z{z} {action}: "
                            + ", ".join(f"{v:.0f}" for v in ms)
                            + " ms"
                        )
        finally:
            browser.close()

    print(f"\n{args.runs} runs each, fresh browser context per run, server tile cache warm "
          "(cold: the untimed first run); 1280×800, headless chromium, software rendering")  # fmt: skip
    print(f"{'renderer':9} {'zoom':>4} {'action':6} {'p50 ms':>8} {'min ms':>8} {'cold ms':>8} "
          f"{'held':>5} {'fetched':>7} {'tile bytes':>11} {'features':>9}")  # fmt: skip
    for renderer, z, action, p50, lo, cold, ntiles, nreq, nbytes, features in rows:
        print(f"{renderer:9} {z:>4} {action:6} {p50:>8.0f} {lo:>8.0f} {cold:>8.0f} "
              f"{ntiles:>5} {nreq:>7} {nbytes:>11,} {features:>9,}")  # fmt: skip


if __name__ == "__main__":
    main()
