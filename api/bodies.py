"""Reading request bodies that a route takes whole rather than through a pydantic model: an
appeal or an answer with its photos, and the lifecycle's small JSON objects. Their strings
are checked as every other request value is (gis/values.py); the form parser's own limits are
told as the project's errors.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request

from gis import photos
from gis.errors import InvalidInput
from gis.settings import Settings
from gis.values import check_string, check_tree

log = logging.getLogger("hromada.api")

MAX_FORM_FILES = 20  # more than this is refused by the parser; 6..20 get "too many photos"


async def read_json_object(request: Request) -> dict[str, Any]:
    """A JSON object, or {} for an empty body."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("invalid_request_body") from None
    if not isinstance(data, dict):
        raise InvalidInput("invalid_request_body")
    check_tree(data)
    return data


async def read_form(
    request: Request, *, max_files: int, max_fields: int, files_field: str, files_allowed: int
) -> FormData:
    """The request's form, with the parser's own refusals told as the project's errors (the
    parser says them in English prose inside a bare 400)."""
    try:
        return await request.form(max_files=max_files, max_fields=max_fields)
    except HTTPException as exc:
        said = str(exc.detail)
        if said.startswith("Too many files"):
            raise InvalidInput("too_many_photos", parameter=files_field, max=files_allowed,
                               count=f"> {max_files}") from None  # fmt: skip
        if said.startswith("Too many fields"):
            raise InvalidInput("too_many_fields", parameter="body", max=max_fields) from None
        if "exceeded maximum size" in said:
            digits = "".join(ch for ch in said if ch.isdigit())
            raise InvalidInput("form_part_too_large", parameter="body", max_kb=digits) from None
        log.info("form refused by the parser: %s", said)
        raise InvalidInput("invalid_form", parameter="body") from None


async def read_appeal_body(request: Request, settings: Settings) -> tuple[dict, list[photos.Photo]]:
    """An appeal's (or an answer's) fields and photos: JSON, or a form with the fields (or
    `data` as JSON) and up to the allowed number of `photos`, each checked by gis/photos.py."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        form = await read_form(request, max_files=MAX_FORM_FILES, max_fields=100,
                               files_field="photos", files_allowed=settings.appeal_max_photos)  # fmt: skip
        try:
            payload: dict = {}
            field = form.get("data")
            if field is not None:
                raw = await field.read() if isinstance(field, UploadFile) else field
                try:
                    payload = json.loads(raw)
                except (ValueError, UnicodeDecodeError):
                    raise InvalidInput("invalid_json", parameter="data") from None
                if not isinstance(payload, dict):
                    raise InvalidInput("invalid_json", parameter="data")
            check_tree(payload)
            for key, value in form.multi_items():
                if key not in ("data", "photos") and isinstance(value, str):
                    check_string(value, key, multiline=True)
                    payload.setdefault(key, value)
            uploads = [f for f in form.getlist("photos") if isinstance(f, UploadFile)]
            if len(uploads) > settings.appeal_max_photos:
                raise InvalidInput("too_many_photos", parameter="photos",
                                   max=settings.appeal_max_photos, count=len(uploads))  # fmt: skip
            checked = []
            for i, upload in enumerate(uploads):
                data = await upload.read(settings.appeal_max_photo_bytes + 1)
                # Decoding and re-encoding an image is CPU work: off the event loop.
                checked.append(await asyncio.to_thread(
                    photos.check, data, upload.filename or f"#{i + 1}",
                    max_bytes=settings.appeal_max_photo_bytes,
                    max_pixels=settings.appeal_max_photo_pixels,
                ))  # fmt: skip
            return payload, checked
        finally:
            await form.close()
    if ctype not in ("application/json", ""):
        raise InvalidInput("unsupported_content_type", value=ctype)
    try:
        payload = json.loads(await request.body() or b"null")
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("invalid_json", parameter="body") from None
    if not isinstance(payload, dict):
        raise InvalidInput("invalid_json", parameter="body")
    return payload, []
