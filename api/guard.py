"""The edge of the service, as two pure ASGI middlewares.

`RequestGuard` checks the characters of every request value before any route sees it
(gis/values.py holds the rules): the path, each query parameter's name and value, and each
key and string of a JSON or url-encoded body. A bad one is a 400 naming the field.
Multipart forms are streamed to their route, which checks each field itself.

`CatchAll` is the last word on a failure nothing else mapped: a `500 internal_error` JSON
body naming a request id, the same id logged beside the traceback, and the connection kept
open (Starlette's own handler re-raises, and the server then drops the connection).
"""

from __future__ import annotations

import json
import logging
import uuid
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gis.errors import DomainError
from gis.values import check_string, check_tree

log = logging.getLogger("hromada.api")

JSON_TYPES = (b"application/json", b"application/geo+json")
FORM_TYPE = b"application/x-www-form-urlencoded"


def _content_type(scope: Scope) -> bytes:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            return value.split(b";")[0].strip().lower()
    return b""


def check_query(query_string: bytes) -> None:
    """Each parameter's name and value (no control character at all: a query holds no lines)."""
    text = query_string.decode("utf-8", "replace")
    for name, value in parse_qsl(text, keep_blank_values=True, encoding="utf-8"):
        check_string(name, "query", query=True)
        check_string(value, name, query=True)


def check_body(content_type: bytes, body: bytes) -> None:
    if content_type in JSON_TYPES or content_type.endswith(b"+json"):
        try:
            parsed = json.loads(body) if body.strip() else None
        except (ValueError, UnicodeDecodeError):
            return  # the route answers malformed JSON in its own words
        check_tree(parsed)
    elif content_type == FORM_TYPE:
        for name, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
            check_string(name, "body")
            check_string(value, name, multiline=True)


class RequestGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            check_string(scope.get("path", ""), "path")
            check_query(scope.get("query_string", b""))
        except DomainError as exc:
            await _refuse(scope, receive, send, exc)
            return
        content_type = _content_type(scope)
        if not (content_type in JSON_TYPES or content_type in (FORM_TYPE,)
                or content_type.endswith(b"+json")):  # fmt: skip
            await self.app(scope, receive, send)
            return
        # Small bodies (RequestSizeLimit, outside this one, has capped them): read whole,
        # checked, then replayed to the route.
        chunks = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        try:
            check_body(content_type, body)
        except DomainError as exc:
            await _refuse(scope, receive, send, exc)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _refuse(scope: Scope, receive: Receive, send: Send, exc: DomainError) -> None:
    from api.errors import error_response, status_of

    response = error_response(Request(scope), status_of(exc), exc.code, **exc.params)
    await response(scope, receive, send)


class CatchAll:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            request_id = uuid.uuid4().hex[:16]
            log.error(
                "internal error, request %s: %s %s",
                request_id, scope.get("method"), scope.get("path"), exc_info=exc,
            )  # fmt: skip
            if started:
                return  # the answer is half sent: nothing to add but the log line
            from api.errors import error_response

            response = error_response(
                Request(scope), 500, "internal_error", extra={"request_id": request_id},
                request_id=request_id,
            )  # fmt: skip
            response.headers["X-Request-ID"] = request_id
            await response(scope, receive, send)
