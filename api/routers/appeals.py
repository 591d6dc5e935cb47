"""Filing an appeal, and what anyone may see of one.

- `GET  /api/v1/categories` — kinds with their sub-kinds and deadlines (what a citizen picks).
- `POST /api/v1/appeals` — a citizen's appeal (anonymous callers too: the author's name and
  postal address are required anyway, art. 8), or one an operator registers on a citizen's
  behalf from another channel. JSON, or multipart/form-data with the same fields in a `data`
  part (JSON) or as flat fields, plus up to 5 `photos`. `Idempotency-Key` makes retries
  safe. Rules and their messages: gis/intake.py; photos: gis/photos.py.
- `GET  /api/v1/appeals/{number}` — the public view: never the author's personal data.
- `GET  /api/v1/photos/{sha256}` — a photo, stripped of its EXIF metadata: of a published
  appeal or of an answer for anyone; of any appeal in their scope for staff and the author.

JSON body:

    {"category": 57 | "code", "text": "…",
     "location": {"lon": 30.52, "lat": 50.45} | {"street": "вулиця Хрещатик", "house": "21"}
                 | {"address": "вулиця Хрещатик, 21"} | {"no_location": true},
     "author": {"full_name": "…", "email": "…", "phone": "…", "postal_address": "…",
                "privilege": "…"},
     "consent_to_publish": false, "channel": "site"}
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from api import schemas
from api.bodies import read_appeal_body
from api.deps import ConnDep, SettingsDep
from api.policy import Principal, public
from api.ratelimit import check_account_limit, check_ip_limit, client_ip
from gis import councils, intake, notify, photos
from gis.errors import InvalidInput, NotFound
from gis.texts import negotiate

router = APIRouter(prefix="/api/v1", tags=["appeals"])

SHA256 = re.compile(r"^[0-9a-f]{64}$")
TRUE = {"true", "1", "yes", "on", "так"}
FALSE = {"false", "0", "no", "off", "ні", ""}
FLAT_AUTHOR = ("full_name", "email", "phone", "postal_address", "privilege", "notify_channel",
               "language")  # fmt: skip
FLAT_LOCATION = ("lon", "lat", "street", "house", "address", "no_location")


def _bool(value: Any, name: str) -> bool:
    if isinstance(value, bool) or value is None:
        return bool(value)
    if isinstance(value, int | float):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in TRUE | FALSE:
        return value.strip().lower() in TRUE
    raise InvalidInput("invalid_boolean", parameter=name, value=value)


def _text(value: Any, name: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise InvalidInput("invalid_field", parameter=name)


def _dict(value: Any, name: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput("invalid_field", parameter=name)
    return value


def _submission(payload: dict, files: list[photos.Photo]) -> intake.Submission:
    author = _dict(payload.get("author"), "author")
    location = _dict(payload.get("location"), "location")
    for key in FLAT_LOCATION:  # flat form fields
        if key in payload and key not in location:
            location[key] = payload[key]
    street, house = location.get("street"), location.get("house")
    if location.get("address") is not None and street is None:
        address = _text(location["address"], "location.address") or ""
        street, _, house = address.rpartition(",")
        if not street:
            street, house = address, None
    category = payload.get("category")
    if isinstance(category, bool) or not isinstance(category, int | str | None):
        raise InvalidInput("invalid_field", parameter="category")
    return intake.Submission(
        category=category,
        text=_text(payload.get("text"), "text"),
        author=intake.Author(
            **{k: _text(author.get(k, payload.get(k)), f"author.{k}") for k in FLAT_AUTHOR}
        ),  # fmt: skip
        lon=location.get("lon"),
        lat=location.get("lat"),
        street=_text(street, "location.street"),
        house=_text(house, "location.house"),
        no_location=_bool(location.get("no_location"), "location.no_location"),
        consent_to_publish=_bool(payload.get("consent_to_publish"), "consent_to_publish"),
        channel=_text(payload.get("channel"), "channel"),
        photos=files,
        council=_text(payload.get("council"), "council"),
    )


def _request_hash(payload: dict, files: list[photos.Photo]) -> str:
    canonical = json.dumps(
        {"payload": payload, "photos": [p.original_sha256 for p in files]},
        sort_keys=True, ensure_ascii=False, separators=(",", ":"),
    )  # fmt: skip
    return hashlib.sha256(canonical.encode()).hexdigest()


@router.get(
    "/categories", response_model=schemas.Categories, name="categories", dependencies=[public()]
)
async def categories(conn: ConnDep, council: str | None = None) -> dict:
    """Kinds (вид) with their sub-kinds (підвид): id, code, name, deadline_days, needs_study.
    An appeal is filed under a sub-kind. `council` (slug or KATOTTH code): what that council
    offers, with its deadlines; without it, the only council's, else the whole catalogue."""
    named = await councils.resolve(conn, council) if council else await councils.only(conn)
    kinds = await intake.categories(conn, named)
    return {"kinds": kinds, "returned": len(kinds)}


@router.post(
    "/appeals",
    response_model=schemas.SubmittedAppeal,
    openapi_extra=schemas.APPEAL_BODY,
    name="submit_appeal",
    status_code=201,
)
async def submit_appeal(
    request: Request,
    principal: Annotated[Principal, public("anyone (citizens; operators for other channels)")],
    conn: ConnDep,
    settings: SettingsDep,
) -> JSONResponse:
    """File an appeal (JSON, or multipart/form-data with up to 5 photos). 201: its number,
    deadline, status, district, ward, executor and the routing reason."""
    key = intake.check_idempotency_key(request.headers.get("idempotency-key"))
    submitter = intake.Submitter(
        user_id=principal.user_id, role=principal.role, full_name=principal.full_name,
        email=principal.email,
    )  # fmt: skip
    # Citizens are limited per address and per account; the contact centre's operators, who
    # register many appeals from one office address, are not.
    if not submitter.is_operator:
        check_ip_limit(request, "submission")
        if principal.user_id is not None:
            check_account_limit(request, "submission", f"user:{principal.user_id}")
    payload, files = await read_appeal_body(request, settings)
    sub = _submission(payload, files)
    if sub.author.language is None:
        # The author's notices: a citizen's in the page's language (its cookie); a caller's,
        # registered by an operator, in Ukrainian unless the operator chose otherwise.
        sub.author.language = "uk" if submitter.is_operator else negotiate(
            None, request.cookies.get("hromada_lang"), request.headers.get("accept-language"))  # fmt: skip
    intake.validate(sub, submitter, max_chars=settings.appeal_text_max_chars,
                    max_photos=settings.appeal_max_photos)  # fmt: skip
    intake.check_notify_offered(sub.author, notify.offered_channels(settings))
    idem = None
    if key is not None:
        owner = (
            f"user:{principal.user_id}" if principal.user_id is not None
            else f"ip:{client_ip(request)}"
        )  # fmt: skip
        idem = intake.Idempotency(key, owner, _request_hash(payload, files))
    outcome = await intake.submit(conn, sub, submitter, data_dir=settings.data_dir,
                                  idempotency=idem,
                                  duplicate_radius_m=settings.appeal_duplicate_radius_m,
                                  settings=settings)  # fmt: skip
    headers = {"Location": "/api/v1/appeals/" + quote(str(outcome.body.get("number", "")))}
    if outcome.replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(outcome.body, status_code=outcome.status_code, headers=headers)


@router.get(
    "/appeals/{number}",
    response_model=schemas.PublicAppeal,
    name="public_appeal",
    dependencies=[public()],
)
async def public_appeal(number: str, conn: ConnDep) -> dict:
    """What anyone may see: status, category, address, dates, district, executor, the answer;
    the text and photos only when the author consented; never the author's personal data."""
    return await intake.public_appeal(conn, number)


@router.get(
    "/photos/{sha256}",
    response_class=Response,
    responses=schemas.PHOTO_RESPONSES,
    name="appeal_photo",
)
async def photo(
    sha256: str,
    principal: Annotated[Principal, public("anyone (published); staff and author (in scope)")],
    conn: ConnDep,
    settings: SettingsDep,
) -> FileResponse:
    """A photo (EXIF stripped) of a published appeal or of an executor's answer; staff and the
    author also see the photos of unpublished appeals within their scope (gis/scope.py)."""
    sha256 = sha256.lower()
    seen = None
    if SHA256.match(sha256):
        seen = await intake.visible_photo(conn, sha256, principal)
    found = photos.find(settings.data_dir, sha256) if seen else None
    if seen is None or found is None:
        raise NotFound("photo_not_found")
    path, content_type = found
    cache = "public, max-age=3600" if seen[1] else "private, no-store"
    return FileResponse(
        path, media_type=content_type,
        headers={"Cache-Control": cache, "X-Content-Type-Options": "nosniff"},
    )  # fmt: skip
