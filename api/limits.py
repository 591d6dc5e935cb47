"""Request size limits: a pure ASGI middleware answering 413 (`payload_too_large`, the same
JSON error body as every other error) when a request body is larger than allowed.

multipart/form-data (photos) may be up to settings.max_upload_bytes, anything else (JSON,
url-encoded forms) up to settings.max_json_bytes. A Content-Length over the limit is refused
before a byte of the body is read; a body without one (chunked) is counted as it streams and
refused as soon as it passes the limit, whatever the route was doing with it.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gis.settings import Settings


class _TooLarge(Exception):
    pass


class RequestSizeLimit:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.max_json = settings.max_json_bytes
        self.max_upload = settings.max_upload_bytes

    def limit_for(self, scope: Scope) -> int:
        for name, value in scope.get("headers", ()):
            if name == b"content-type":
                if value.split(b";")[0].strip().lower() == b"multipart/form-data":
                    return self.max_upload
                break
        return self.max_json

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    break  # the server refuses a malformed length itself; count the stream
                if declared > limit:
                    await self._refuse(scope, receive, send, limit)
                    return
                break

        received = 0
        exceeded = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise _TooLarge()
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded and not started:
                return  # whatever the app answers to a cut-off body, the answer is 413
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except _TooLarge:
            pass
        except Exception:
            if not exceeded:
                raise
        if exceeded and not started:
            await self._refuse(scope, receive, send, limit)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        from api.errors import error_response

        response = error_response(Request(scope), 413, "payload_too_large", limit=limit)
        response.headers["Connection"] = "close"
        await response(scope, receive, send)
