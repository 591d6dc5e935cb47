"""Security headers on every answer — pages, API, tiles, static files and errors alike.

- Content-Security-Policy: the portal loads its scripts, styles, fonts and data from the
  service itself only; images also from the configured background's tile server
  (settings.basemap_url), `data:` (Leaflet blanks a tile it drops with a 1-pixel GIF) and
  `blob:` (the preview of a photo being attached to an appeal). No plugins, no <base>, forms
  post only here, and no other site may frame a page (clickjacking).
- X-Frame-Options: DENY and X-Content-Type-Options: nosniff for older browsers and for the
  uploads; Referrer-Policy: strict-origin-when-cross-origin (an appeal's URL never leaks).
- Cache-Control: no-store on what carries personal data or tokens (one's account, the
  author of an appeal, the staff queue and card, sign-in, the administrator's routes, the
  account pages): neither the browser nor a proxy keeps a copy.

A route that needs another policy (the ward report, whose map folium writes inline) sets its
own Content-Security-Policy, which is kept; the other headers are set only when the route
did not set them. The middleware wraps the whole app (api/app.py), so it sees the answers
of the error handlers too.
"""

from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gis.settings import Settings

FIXED = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}
# Paths whose answers carry personal data or tokens: the path itself or anything below it.
NO_STORE_PREFIXES = (
    "/api/v1/me",
    "/api/v1/auth",
    "/api/v1/queue",
    "/api/v1/admin",
    "/account",
)
AUTHOR_PATH = re.compile(r"^/api/v1/appeals/[^/]+/author/?$")
# FastAPI's own documentation pages load Swagger UI / ReDoc from their CDN and start them with
# an inline script; they show no data of anyone.
# Swagger UI, served from static/vendor/swagger-ui like the portal's libraries; its page starts
# the bundle with an inline script.
DOCS_PATHS = frozenset({"/docs"})


def tile_source(basemap_url: str | None) -> str | None:
    """The CSP source of a tile URL template: scheme and host, a `{s}` subdomain (or any
    placeholder in the host) as a leading wildcard; None for no background or a path on this
    server."""
    if not basemap_url:
        return None
    parts = urlsplit(basemap_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    host, port = parts.netloc.rpartition("@")[2], ""
    if re.search(r":\d+$", host):
        host, _, port = host.rpartition(":")
        port = f":{port}"
    labels = host.split(".")
    templated = [i for i, label in enumerate(labels) if "{" in label or "}" in label]
    if templated:
        labels = ["*", *labels[templated[-1] + 1 :]]
    return f"{parts.scheme}://{'.'.join(labels)}{port}"


def content_security_policy(settings: Settings) -> str:
    images = ["'self'", "data:", "blob:"]
    tiles = tile_source(settings.basemap_url)
    if tiles:
        images.append(tiles)
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src {' '.join(images)}",
            "connect-src 'self'",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


DOCS_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "frame-ancestors 'none'",
    ]
)

_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S | re.I)


def inline_page_policy(html: str) -> str:
    """The policy of a generated page that carries its own inline scripts (folium's map in
    the ward report): exactly those scripts (by their SHA-256) and the service's own files;
    inline styles; nothing from elsewhere."""
    hashes = [
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
        for body in _INLINE_SCRIPT.findall(html)
    ]
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' {' '.join(hashes)}".rstrip(),
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def no_store(path: str) -> bool:
    if AUTHOR_PATH.match(path):
        return True
    return any(path == p or path.startswith(p + "/") for p in NO_STORE_PREFIXES)


class SecurityHeaders:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.policy = content_security_policy(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        policy = DOCS_POLICY if path in DOCS_PATHS else self.policy
        private = no_store(path)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if "content-security-policy" not in headers:
                    headers["Content-Security-Policy"] = policy
                for name, value in FIXED.items():
                    if name.lower() not in headers:
                        headers[name] = value
                if private:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)
