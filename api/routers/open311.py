"""Open311 GeoReport v2, the read side (issue 15): public, no key needed to read.

- `GET /open311/v2/discovery` — the endpoints, formats, contact and changeset date.
- `GET /open311/v2/services` — one service per appeal category.
- `GET /open311/v2/services/{service_code}` — a service's definition with its attributes.
- `GET /open311/v2/requests` — appeals, with the spec's filters and page/page_size.
- `GET /open311/v2/requests/{service_request_id}` — one appeal.
- `GET /open311/v2/servicerequestupdates` — mySociety's extension: the lifecycle's steps.

Each path answers with `.xml` and `.json` suffixes, and without one in XML (api/open311.py
renders; gis/open311.py queries; errors in the spec's format, through api/errors.py). Every
route takes the optional `jurisdiction_id` (a council's KATOTTH code; another is a 404): the
requests, updates and services of that council (issue 17).
Never any personal data: gis/open311.py reads no author.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api import open311 as wire
from api.deps import ConnDep
from api.policy import public
from api.urls import public_base
from gis import open311
from gis.texts import preferred_language

router = APIRouter(tags=["Open311 GeoReport v2"])

PREFIX = "/open311/v2"
SUFFIXES = ((".xml", "xml"), (".json", "json"), ("", "xml"))

_JURISDICTION = {
    "name": "jurisdiction_id",
    "in": "query",
    "required": False,
    "schema": {"type": "string", "maxLength": 64},
    "description": "a council's KATOTTH code (optional): that council's requests and services",
}


def _query(*names: str) -> dict[str, Any]:
    extra = [{"name": n, "in": "query", "required": False, "schema": {"type": "string"}}
             for n in names]  # fmt: skip
    return {"parameters": [_JURISDICTION, *extra]}


def add_routes(
    path: str, endpoint: Callable[..., Awaitable[Response]], name: str, summary: str,
    query: tuple[str, ...] = (),
) -> None:  # fmt: skip
    """Register `endpoint` at PREFIX + path + `.xml`, `.json` and no suffix (XML), in that
    order, so `requests/П-1.json` is never taken for the number «П-1.json»."""
    for suffix, fmt in SUFFIXES:
        router.add_api_route(
            f"{PREFIX}{path}{suffix}",
            endpoint,
            methods=["GET"],
            name=f"{name}_{fmt}" if suffix else name,
            summary=summary,
            dependencies=[public("anyone: Open311 clients read without a key")],
            response_class=Response,
            responses=wire.openapi_responses(fmt, summary),
            openapi_extra=_query(*query),
        )


def _lang(request: Request) -> str:
    return preferred_language(request.headers.get("accept-language"))


async def discovery(request: Request, conn: ConnDep) -> Response:
    await open311.check_jurisdiction(conn, request.query_params.get("jurisdiction_id") or None)
    return wire.render(
        request, "discovery", open311.discovery(public_base(request), _lang(request))
    )


async def _council_id(conn, jurisdiction_id: str | None) -> int | None:
    """The jurisdiction's council (404 for an unknown one); None when none is named."""
    council = await open311.check_jurisdiction(conn, jurisdiction_id or None)
    return council.id if council is not None else None


async def services(request: Request, conn: ConnDep) -> Response:
    council_id = await _council_id(conn, request.query_params.get("jurisdiction_id"))
    return wire.render(request, "services", await open311.services(conn, council_id))


async def service_definition(request: Request, conn: ConnDep, service_code: str) -> Response:
    council_id = await _council_id(conn, request.query_params.get("jurisdiction_id"))
    definition = await open311.service_definition(conn, service_code, _lang(request), council_id)
    return wire.render(request, "service_definition", definition)


async def requests(request: Request, conn: ConnDep) -> Response:
    q = open311.parse_requests_query(request.query_params.multi_items())
    council_id = await _council_id(conn, q.jurisdiction_id)
    found = await open311.requests(conn, q, base_url=public_base(request), lang=_lang(request),
                                   council_id=council_id)  # fmt: skip
    return wire.render(request, "service_requests", found)


async def request_by_id(request: Request, conn: ConnDep, service_request_id: str) -> Response:
    council_id = await _council_id(conn, request.query_params.get("jurisdiction_id"))
    found = await open311.request(
        conn, service_request_id, base_url=public_base(request), lang=_lang(request),
        council_id=council_id,
    )  # fmt: skip
    return wire.render(request, "service_requests", [found])


async def request_updates(request: Request, conn: ConnDep) -> Response:
    q = open311.parse_requests_query(request.query_params.multi_items(), updates=True)
    council_id = await _council_id(conn, q.jurisdiction_id)
    found = await open311.updates(conn, q, base_url=public_base(request), lang=_lang(request),
                                  council_id=council_id)  # fmt: skip
    return wire.render(request, "service_request_updates", found)


REQUEST_FILTERS = ("service_request_id", "service_code", "start_date", "end_date", "status",
                   "page", "page_size")  # fmt: skip

add_routes("/discovery", discovery, "open311_discovery", "Open311: discovery")
add_routes("/services", services, "open311_services", "Open311: services (appeal categories)")
add_routes("/services/{service_code}", service_definition, "open311_service",
           "Open311: a service's definition and attributes")  # fmt: skip
add_routes("/requests", requests, "open311_requests", "Open311: requests (appeals)",
           REQUEST_FILTERS)  # fmt: skip
add_routes("/requests/{service_request_id}", request_by_id, "open311_request",
           "Open311: one request (appeal)")  # fmt: skip
add_routes("/servicerequestupdates", request_updates, "open311_updates",
           "Open311: the lifecycle's steps (mySociety's servicerequestupdates)",
           ("start_date", "end_date", "page", "page_size"))  # fmt: skip
