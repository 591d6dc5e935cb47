"""Open311 GeoReport v2 on the wire: XML and JSON answers and the spec's error format.

Every resource under `/open311/v2/` answers with the suffix `.json` in JSON and otherwise
(`.xml`, or no suffix) in XML: well-formed UTF-8 built with xml.etree, the spec's element
names. The routes (api/routers/open311.py, the read side; the POST side beside it) hand
plain values — dicts, lists, strings, numbers, booleans, aware datetimes, None — to `render`
with the root element's name; lists become repeated child elements named by LIST_ITEMS:

    render(request, "services", [{"service_code": "12", ...}])
    → <services><service><service_code>12</service_code>…</service></services>
    → [{"service_code": "12", ...}]                                      (.json)

Errors on /open311/ paths are never the app's `{code, detail}`: api/errors.error_response
(the one place error bodies are made) hands them to `error_response` here, which answers
`<errors><error><code>404</code><description>…</description></error></errors>` (XML) or
`[{"code": 404, "description": "…"}]` (JSON), the description in the request's language.

Datetimes are written ISO 8601 with the zone, in Kyiv's offset (2026-11-30T14:05:00+02:00).
"""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response

PREFIX = "/open311/"
XML_TYPE = "text/xml; charset=utf-8"
JSON_TYPE = "application/json; charset=utf-8"
FORMATS = ("xml", "json")
KYIV = ZoneInfo("Europe/Kyiv")

# A list's key (or the root's name) → the element each of its items is written as.
LIST_ITEMS: dict[str, str] = {
    "services": "service",
    "service_requests": "request",
    "service_request_updates": "request_update",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "errors": "error",
}


def is_open311_path(path: str) -> bool:
    """Whether a path is one of Open311's (errors there are in the spec's format)."""
    return path.startswith(PREFIX) or path == PREFIX.rstrip("/")


def response_format(path: str) -> str:
    """'json' for a `.json` path, else 'xml' (the spec's required format, the default)."""
    return "json" if path.endswith(".json") else "xml"


def iso_datetime(value: dt.datetime) -> str:
    """ISO 8601 with the zone, in Kyiv's offset, to the second: 2026-11-30T14:05:00+02:00."""
    if value.tzinfo is None:
        raise ValueError(f"a naive datetime cannot be written with its zone: {value!r}")
    return value.astimezone(KYIV).replace(microsecond=0).isoformat()


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return iso_datetime(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _json_value(value: object) -> Any:
    if isinstance(value, dt.datetime):
        return iso_datetime(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    return value


def _fill(element: ET.Element, value: object) -> None:
    """Write `value` into `element`: a mapping as child elements in its order, a list as
    repeated children named by LIST_ITEMS[element's tag], anything else as text."""
    if isinstance(value, Mapping):
        for key, child in value.items():
            _fill(ET.SubElement(element, str(key)), child)
    elif isinstance(value, list | tuple):
        item_tag = LIST_ITEMS.get(element.tag)
        if item_tag is None:
            raise ValueError(f"no element name for the items of <{element.tag}>")
        for item in value:
            _fill(ET.SubElement(element, item_tag), item)
    else:
        text = _text(value)
        if text is not None:
            element.text = text


def to_xml(root: str, value: object) -> bytes:
    """The document `<root>…</root>` for `value`, UTF-8 with the XML declaration."""
    element = ET.Element(root)
    _fill(element, value)
    return ET.tostring(element, encoding="utf-8", xml_declaration=True)


def to_json(value: object) -> bytes:
    return json.dumps(_json_value(value), ensure_ascii=False, separators=(",", ":")).encode()


def render(
    request: Request, root: str, value: Sequence[object] | Mapping[str, object], *,
    status_code: int = 200, headers: Mapping[str, str] | None = None,
) -> Response:  # fmt: skip
    """The answer in the path's format: XML `<root>…</root>`, or JSON (the value itself: a
    list for services, service_requests…, an object for discovery or a service definition)."""
    if response_format(request.url.path) == "json":
        return Response(to_json(value), status_code, dict(headers or {}), media_type=JSON_TYPE)
    return Response(to_xml(root, value), status_code, dict(headers or {}), media_type=XML_TYPE)


def error_response(
    request: Request, status_code: int, description: str, *,
    headers: Mapping[str, str] | None = None,
) -> Response:  # fmt: skip
    """The spec's error answer: one error with the HTTP status as its code."""
    return errors_response(request, status_code, [(status_code, description)], headers=headers)


def errors_response(
    request: Request, status_code: int, errors: Sequence[tuple[int, str]], *,
    headers: Mapping[str, str] | None = None,
) -> Response:  # fmt: skip
    """Several errors in one answer (`errors/error` each with `code` and `description`)."""
    items = [{"code": code, "description": description} for code, description in errors]
    return render(request, "errors", items, status_code=status_code, headers=headers)


# OpenAPI: what an Open311 route answers, for /openapi.json and the fuzz (tests/test_fuzz.py).
ERROR_SCHEMA: dict[str, Any] = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["code", "description"],
        "properties": {"code": {"type": "integer"}, "description": {"type": "string"}},
    },
}


def openapi_responses(fmt: str, description: str) -> dict[int | str, dict[str, Any]]:
    """`responses=` of a route answering in `fmt` ('xml' or 'json'): its 200 and its errors in
    the spec's format (instead of the app's `{code, detail}`)."""
    if fmt == "json":
        ok: dict[str, Any] = {"application/json": {}}
        err: dict[str, Any] = {"application/json": {"schema": ERROR_SCHEMA}}
    else:
        ok = {"text/xml": {}}
        err = {"text/xml": {}}
    return {
        200: {"description": description, "content": ok},
        "4XX": {"description": "Open311 errors: errors/error with code and description",
                "content": err},
        "5XX": {"description": "Open311 errors: errors/error with code and description",
                "content": err},
    }  # fmt: skip
