"""The service's URLs: absolute ones from `settings.public_base_url`, never from the request's
Host header (which the client chooses: a forged Host would otherwise end up in the OGC links,
the feed's paging and the tile templates that caches and other clients keep), and
root-relative paths for the portal's own pages.

    absolute_url(request, "ogc_items", collection_id="appeals")
    self_url(request)                    # this request's path and query, on the public base
    path_for(request, "portal_login")    # "/login"
"""

from __future__ import annotations

from fastapi import Request


def public_base(request: Request) -> str:
    """The configured public base URL, without a trailing slash."""
    return str(request.app.state.settings.public_base_url).rstrip("/")


def path_for(request: Request, name: str, **path_params: object) -> str:
    """The root-relative path of a named route (a page of the portal talks only to its own
    origin, whatever address it was opened by)."""
    return str(request.app.url_path_for(name, **path_params))


def absolute_url(request: Request, name: str, **path_params: object) -> str:
    return public_base(request) + path_for(request, name, **path_params)


def _app_path(request: Request) -> str:
    path = request.scope["path"]
    root = request.scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def self_url(request: Request, query: str | None = None) -> str:
    """This request's path on the public base, with `query` (the request's own by default)."""
    query = request.url.query if query is None else query
    return public_base(request) + _app_path(request) + (f"?{query}" if query else "")
