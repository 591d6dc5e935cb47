"""gzip for the portal's own files: its pages and /static (HTML, JS, CSS, SVG — Leaflet alone
is 148 KB, 42 KB compressed), when the browser accepts it. The data routes (/api, /ogc,
/tiles, /healthz) pass as they are: photos and tiles gain little or nothing, and the GeoJSON
and tile throughput the benchmarks measure would pay for it in CPU on a two-core server; a
city's reverse proxy may compress them if its bandwidth is dearer than its CPU."""

from __future__ import annotations

from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

DATA_PREFIXES = ("/api/", "/ogc", "/tiles/", "/healthz")


class CompressPortal:
    def __init__(self, app: ASGIApp, minimum_size: int = 1024) -> None:
        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=minimum_size)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith(DATA_PREFIXES):
            await self.gzip(scope, receive, send)
        else:
            await self.app(scope, receive, send)
